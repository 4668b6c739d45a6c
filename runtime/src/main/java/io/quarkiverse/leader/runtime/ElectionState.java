package io.quarkiverse.leader.runtime;

/**
 * Where an {@link ElectionSession} is. Every move between these happens in {@link ElectionSession#moveTo}.
 */
public enum ElectionState {
    /** Created, not started. */
    IDLE,
    /** Opening a session, retried with backoff. */
    CONNECTING,
    /** A follower: the session waits for the lock (or polls for it). */
    WAITING,
    /** The lock is held; the next term and the LISTENs are on their way. */
    BEGINNING_TERM,
    /** The leader, for as long as its lease is confirmed. */
    LEADING,
    /** The lease or the session was lost: observers are told, then the session is closed and a new one opened. */
    STEPPING_DOWN,
    /** Leaving for good: handlers drain, observers are told, then UNLISTEN, unlock and close. */
    LEAVING,
    /** Left; an election runs once. */
    STOPPED
}
