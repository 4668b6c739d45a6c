package io.quarkiverse.leader;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import jakarta.enterprise.util.AnnotationLiteral;
import jakarta.inject.Qualifier;

/**
 * Selects a named election, configured with {@code quarkus.leader."name".*}: inject {@code @Election("jobs")
 * LeaderElection}, or observe {@code @Observes @Election("jobs") LeadershipChanged} for that election's changes only.
 * Without this qualifier, {@code LeaderElection} is the default election, and an observer of {@link LeadershipChanged}
 * hears of every election.
 */
@Qualifier
@Target({ ElementType.FIELD, ElementType.PARAMETER, ElementType.METHOD, ElementType.TYPE })
@Retention(RetentionPolicy.RUNTIME)
public @interface Election {

    /**
     * The election's name; {@value LeaderElection#DEFAULT_NAME} is the default election.
     */
    String value();

    final class Literal extends AnnotationLiteral<Election> implements Election {

        private static final long serialVersionUID = 1L;

        private final String value;

        private Literal(String value) {
            this.value = value;
        }

        public static Literal of(String name) {
            return new Literal(name);
        }

        @Override
        public String value() {
            return value;
        }
    }
}
