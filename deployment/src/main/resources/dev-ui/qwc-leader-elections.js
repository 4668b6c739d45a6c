import { LitElement, html, css } from 'lit';
import { JsonRpc } from 'jsonrpc';
import { notifier } from 'notifier';
import '@vaadin/button';
import '@vaadin/grid';
import '@vaadin/select';
import '@vaadin/text-area';
import '@vaadin/text-field';
import { columnBodyRenderer } from '@vaadin/grid/lit.js';

/**
 * Each election of this instance: its lock, this instance's role, the current leader and its term, the methods bound
 * to its channels; and a form that sends a test notification.
 */
export class QwcLeaderElections extends LitElement {

    jsonRpc = new JsonRpc(this);

    static styles = css`
        .election { padding: 0 1em 1em 1em; }
        .facts { display: flex; gap: 2em; flex-wrap: wrap; color: var(--lumo-contrast-70pct); }
        .facts b { color: var(--lumo-body-text-color); }
        .send { display: flex; gap: 1em; align-items: baseline; flex-wrap: wrap; padding: 0 1em; }
        .leader { color: var(--lumo-success-text-color); }
        .follower { color: var(--lumo-contrast-60pct); }
        .disconnected, .disabled { color: var(--lumo-error-text-color); }
        .signature { overflow-wrap: anywhere; }
    `;

    static properties = {
        _elections: { state: true },
        _election: { state: true },
        _channel: { state: true },
        _payload: { state: true },
    };

    constructor() {
        super();
        this._payload = '{"test": true}';
    }

    connectedCallback() {
        super.connectedCallback();
        this._refresh();
    }

    _refresh() {
        this.jsonRpc.getElections().then(response => {
            this._elections = response.result;
            if (!this._election && this._elections.length > 0) {
                this._select(this._elections[0].name);
            }
        });
    }

    _select(name) {
        this._election = name;
        const election = this._elections.find(e => e.name === name);
        this._channel = election && election.methods.length > 0 ? election.methods[0].channel : '';
    }

    render() {
        if (!this._elections) {
            return html`<span>Loading elections...</span>`;
        }
        return html`
            ${this._elections.map(e => this._renderElection(e))}
            ${this._renderSend()}`;
    }

    _renderElection(e) {
        return html`
            <div class="election">
                <h3>${e.name}</h3>
                <div class="facts">
                    <span>lock <b>${e.lock}</b></span>
                    <span>this instance <b>${e.instanceId}</b> is <b class="${e.role}">${e.role}</b></span>
                    <span>leader <b>${e.leader}</b>${e.term ? html` in term <b>${e.term}</b> since <b>${e.since}</b>` : ''}</span>
                </div>
                <!-- the method takes the width left and wraps: a long signature keeps the other columns in sight -->
                <vaadin-grid .items="${e.methods}" all-rows-visible theme="compact no-border wrap-cell-content">
                    <vaadin-grid-column header="Channel" path="channel" auto-width flex-grow="0"></vaadin-grid-column>
                    <vaadin-grid-column header="@OnLeaderNotification method" flex-grow="1"
                        ${columnBodyRenderer(m => html`<span class="signature">${m.method}</span>`, [])}>
                    </vaadin-grid-column>
                    <vaadin-grid-column header="Runs on" path="executionModel" auto-width flex-grow="0">
                    </vaadin-grid-column>
                    <vaadin-grid-column header="Ordered" auto-width flex-grow="0"
                        ${columnBodyRenderer(m => html`${m.ordered ? 'yes' : 'no'}`, [])}></vaadin-grid-column>
                    <vaadin-grid-column header="Durable" auto-width flex-grow="0"
                        ${columnBodyRenderer(m => html`${m.durable ? 'yes' : 'no'}`, [])}></vaadin-grid-column>
                </vaadin-grid>
            </div>`;
    }

    _renderSend() {
        const items = this._elections.map(e => ({ label: e.name, value: e.name }));
        return html`
            <div class="send">
                <vaadin-select label="Election" .items="${items}" .value="${this._election}"
                    @value-changed="${ev => this._select(ev.detail.value)}"></vaadin-select>
                <vaadin-text-field label="Channel" .value="${this._channel}"
                    @value-changed="${ev => this._channel = ev.detail.value}"></vaadin-text-field>
                <vaadin-text-area label="Payload" .value="${this._payload}" style="min-width: 20em"
                    @value-changed="${ev => this._payload = ev.detail.value}"></vaadin-text-area>
                <vaadin-button theme="primary" @click="${this._send}">Send test notification</vaadin-button>
                <vaadin-button @click="${this._refresh}">Refresh</vaadin-button>
            </div>`;
    }

    _send() {
        this.jsonRpc.sendNotification({ election: this._election, channel: this._channel, payload: this._payload })
            .then(response => notifier.showInfoMessage(escape(response.result)))
            .catch(error => notifier.showErrorMessage(escape(error.error ? error.error.message : String(error))));
    }
}

// the notifier renders its message as HTML; channel names and errors come from the form and the application
function escape(text) {
    return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

customElements.define('qwc-leader-elections', QwcLeaderElections);
