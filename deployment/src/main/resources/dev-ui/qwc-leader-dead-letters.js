import { LitElement, html, css } from 'lit';
import { JsonRpc } from 'jsonrpc';
import { notifier } from 'notifier';
import '@vaadin/button';
import '@vaadin/dialog';
import '@vaadin/grid';
import '@vaadin/icon';
import { columnBodyRenderer } from '@vaadin/grid/lit.js';
import { dialogFooterRenderer, dialogRenderer } from '@vaadin/dialog/lit.js';

/**
 * The durable channels of each election: their backlog as the leader last counted it, and their dead letters, each
 * with a button that puts it back into the flow.
 */
export class QwcLeaderDeadLetters extends LitElement {

    jsonRpc = new JsonRpc(this);

    static styles = css`
        .election { padding: 0 1em 1em 1em; }
        .facts { display: flex; gap: 2em; flex-wrap: wrap; color: var(--lumo-contrast-70pct); }
        .facts b { color: var(--lumo-body-text-color); }
        .bar { display: flex; gap: 1em; align-items: baseline; padding: 0 1em; }
        .leader { color: var(--lumo-success-text-color); }
        .follower, .none { color: var(--lumo-contrast-60pct); }
        .disconnected, .disabled, .error { color: var(--lumo-error-text-color); }
        .payload { white-space: pre-wrap; word-break: break-all; }
        .signature { overflow-wrap: anywhere; }
        pre { white-space: pre-wrap; word-break: break-all; max-width: 80vw; max-height: 60vh; overflow: auto; }
    `;

    static properties = {
        _channels: { state: true },
        _letters: { state: true },
        _payload: { state: true },
    };

    // each channel's page: the id its dead letters come after ('0' for the first page)
    _afterIds = new Map();

    connectedCallback() {
        super.connectedCallback();
        this._refresh();
    }

    _refresh() {
        return this.jsonRpc.getDurableChannels().then(response => {
            const channels = response.result;
            // each channel's dead letters, or why they could not be read
            return Promise.all(channels.map(c => this._readPage(c)))
                .then(entries => {
                    this._letters = new Map(entries);
                    this._channels = channels;
                });
        }).catch(error => notifier.showErrorMessage(escape(message(error))));
    }

    _readPage(c) {
        const afterId = this._afterIds.get(key(c)) || '0';
        return this.jsonRpc.getDeadLetters({ election: c.election, channel: c.channel, afterId: afterId })
            .then(r => [key(c), { letters: r.result.letters, more: r.result.more, afterId: afterId }])
            .catch(error => [key(c), { error: message(error) }]);
    }

    _turnPage(c, afterId) {
        this._afterIds.set(key(c), afterId);
        this._readPage(c).then(([k, entry]) => this._letters = new Map(this._letters).set(k, entry));
    }

    render() {
        if (!this._channels) {
            return html`<span>Loading durable channels...</span>`;
        }
        if (this._channels.length === 0) {
            return html`<span>No durable channels: declare one with @OnLeaderNotification(value = "...", durable = true).</span>`;
        }
        const byElection = new Map();
        this._channels.forEach(c => byElection.set(c.election, [...(byElection.get(c.election) || []), c]));
        return html`
            <div class="bar">
                <vaadin-button @click="${this._refresh}">Refresh</vaadin-button>
            </div>
            ${[...byElection.entries()].map(([election, channels]) => this._renderElection(election, channels))}
            ${this._renderPayloadDialog()}`;
    }

    _renderElection(election, channels) {
        const role = channels[0].role;
        return html`
            <div class="election">
                <h3>${election}</h3>
                <div class="facts">
                    <span>this instance is <b class="${role}">${role}</b></span>
                    <span>${role === 'leader'
                        ? 'backlog: pending messages, the one being handled included, as this leader last counted them'
                        : 'backlog: only the leader counts it (see its Dev UI or its readiness data)'}</span>
                </div>
                <!-- the method takes the width left and wraps: a long signature keeps the other columns in sight -->
                <vaadin-grid .items="${channels}" all-rows-visible theme="compact no-border wrap-cell-content">
                    <vaadin-grid-column header="Durable channel" path="channel" auto-width flex-grow="0">
                    </vaadin-grid-column>
                    <vaadin-grid-column header="Method" flex-grow="1"
                        ${columnBodyRenderer(c => html`<span class="signature">${c.method}</span>`, [])}>
                    </vaadin-grid-column>
                    <vaadin-grid-column header="Delivery" auto-width flex-grow="0"
                        ${columnBodyRenderer(c => html`${c.exactlyOnce ? 'exactly once' : 'at least once'}${c.ordered ? ', ordered' : ''}`, [])}></vaadin-grid-column>
                    <vaadin-grid-column header="Backlog" auto-width flex-grow="0"
                        ${columnBodyRenderer(c => this._renderBacklog(c), [])}></vaadin-grid-column>
                    <vaadin-grid-column header="Dead letters" auto-width flex-grow="0"
                        ${columnBodyRenderer(c => this._renderCount(c), [this._letters])}></vaadin-grid-column>
                </vaadin-grid>
                ${channels.map(c => this._renderDeadLetters(c))}
            </div>`;
    }

    _renderBacklog(c) {
        if (c.backlog !== null && c.backlog !== undefined) {
            return html`<b>${c.backlog}</b>`;
        }
        return c.role === 'leader'
            ? html`<span class="none">not counted yet</span>`
            : html`<span class="none">not leading</span>`;
    }

    _renderCount(c) {
        const entry = this._letters.get(key(c));
        if (entry.error) {
            return html`<span class="error">unreadable</span>`;
        }
        const paged = entry.more || entry.afterId !== '0';
        return html`${entry.letters.length}${paged ? ' on this page' : ''}`;
    }

    _renderDeadLetters(c) {
        const entry = this._letters.get(key(c));
        if (entry.error) {
            return html`<h4>Dead letters of ${c.channel}</h4><span class="error">${entry.error}</span>`;
        }
        if (entry.letters.length === 0 && entry.afterId === '0') {
            return '';
        }
        const last = entry.letters.length > 0 ? entry.letters[entry.letters.length - 1].id : entry.afterId;
        return html`
            <h4>Dead letters of ${c.channel}${entry.afterId !== '0' ? ` after id ${entry.afterId}` : ''}</h4>
            <div class="bar">
                ${entry.afterId !== '0'
                    ? html`<vaadin-button theme="small" @click="${() => this._turnPage(c, '0')}">First page</vaadin-button>`
                    : ''}
                ${entry.more
                    ? html`<vaadin-button theme="small" @click="${() => this._turnPage(c, last)}">Next page</vaadin-button>`
                    : ''}
            </div>
            <vaadin-grid .items="${entry.letters}" all-rows-visible theme="compact row-stripes wrap-cell-content">
                <vaadin-grid-column header="Id" path="id" auto-width flex-grow="0"></vaadin-grid-column>
                <vaadin-grid-column header="Attempts" path="attempts" auto-width flex-grow="0"></vaadin-grid-column>
                <vaadin-grid-column header="Last error" path="lastError"></vaadin-grid-column>
                <vaadin-grid-column header="Payload"
                    ${columnBodyRenderer(l => this._renderPayload(c, l), [])}></vaadin-grid-column>
                <vaadin-grid-column auto-width flex-grow="0"
                    ${columnBodyRenderer(l => html`
                        <vaadin-button theme="small" @click="${() => this._redeliver(c, l)}">
                            <vaadin-icon icon="font-awesome-solid:rotate-right"></vaadin-icon> Redeliver
                        </vaadin-button>`, [])}></vaadin-grid-column>
            </vaadin-grid>`;
    }

    _renderPayload(c, l) {
        if (l.payload === null || l.payload === undefined) {
            return html`<span class="none">not read: larger than max-payload-size (see the last error)</span>`;
        }
        if (!l.shortened) {
            return html`<code class="payload">${l.payload}</code>`;
        }
        return html`
            <code class="payload">${l.payload}</code>
            <vaadin-button theme="small tertiary" @click="${() => this._showPayload(c, l)}">
                all ${l.payloadLength} characters
            </vaadin-button>`;
    }

    _renderPayloadDialog() {
        return html`
            <vaadin-dialog .headerTitle="${this._payload ? `Payload of dead letter ${this._payload.id}` : ''}"
                .opened="${!!this._payload}"
                @opened-changed="${e => { if (!e.detail.value) this._payload = null; }}"
                ${dialogRenderer(() => html`<pre>${this._payload ? this._payload.text : ''}</pre>`, [this._payload])}
                ${dialogFooterRenderer(() => html`<vaadin-button @click="${() => this._payload = null}">Close</vaadin-button>`, [])}
            ></vaadin-dialog>`;
    }

    _showPayload(c, l) {
        this.jsonRpc.getDeadLetterPayload({ election: c.election, channel: c.channel, id: l.id })
            .then(response => this._payload = { id: l.id, text: pretty(response.result) })
            .catch(error => notifier.showErrorMessage(escape(message(error))));
    }

    _redeliver(c, l) {
        this.jsonRpc.redeliver({ election: c.election, id: l.id })
            .then(response => {
                const outcome = response.result;
                if (outcome.redelivered) {
                    notifier.showSuccessMessage(escape(outcome.message));
                } else {
                    notifier.showWarningMessage(escape(outcome.message));
                }
                return this._refresh();
            })
            .catch(error => notifier.showErrorMessage(escape(message(error))));
    }
}

function key(c) {
    return c.election + '\u0000' + c.channel;
}

function message(error) {
    return error && error.error ? error.error.message : String(error);
}

// JSON is shown indented, anything else as it was sent
function pretty(payload) {
    try {
        return JSON.stringify(JSON.parse(payload), null, 2);
    } catch (e) {
        return payload;
    }
}

// the notifier renders its message as HTML; names and errors come from the application
function escape(text) {
    return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

customElements.define('qwc-leader-dead-letters', QwcLeaderDeadLetters);
