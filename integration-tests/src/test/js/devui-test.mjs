// Drives the Dev UI of an application in dev mode in a headless Chromium: opens the Leader card's Elections page,
// reads what it shows of each election, sends a test notification with its form and saves a screenshot; then the
// Dead letters page, the same way.
// Usage: node devui-test.mjs <base url> <screenshot directory> <election> <channel> <payload>
// Prints one line per election ("ELECTION {json}": its name, text, channels, grid cells and the cells out of sight),
// the form's answer ("SENT <text>"), the durable channels ("DEAD_LETTERS {json}") and "SCREENSHOT <file>" for each
// page; exits 1 with the reason on anything missing.
import { chromium } from 'playwright-core';

const [base, screenshots, election, channel, payload] = process.argv.slice(2);
const STEP = 60_000; // each step is bounded, as is the whole run; the Dev UI loads many modules at first

const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
    headless: true,
    timeout: STEP,
});
let page;
try {
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.setDefaultTimeout(STEP);
    const errors = [];
    page.on('pageerror', error => errors.push(String(error)));
    page.on('console', message => message.type() === 'error' && errors.push(message.text()));

    // the extensions page, then the card's link: the way a developer gets there
    await page.goto(`${base}/q/dev-ui/extensions`, { waitUntil: 'domcontentloaded' });
    const card = page.locator('qwc-extension', { hasText: 'Leader' }).first();
    await card.waitFor();
    await card.getByText('Elections', { exact: true }).click();
    await page.waitForURL(/quarkus-leader\/elections/);

    const elections = page.locator('qwc-leader-elections .election');
    await elections.first().waitFor();
    // the grid renders its rows once it has measured itself
    await page.locator('qwc-leader-elections vaadin-grid-cell-content', { hasText: '#' }).first().waitFor();
    for (const e of await elections.all()) {
        const text = await e.innerText();
        const grid = e.locator('vaadin-grid').first();
        console.log('ELECTION ' + JSON.stringify({
            name: await e.locator('h3').innerText(),
            text: text.replace(/\s+/g, ' ').trim(),
            channels: await grid.evaluate(g => g.items.map(m => m.channel)),
            cells: await cells(grid),
            hidden: await hidden(grid),
        }));
    }

    const form = page.locator('qwc-leader-elections .send');
    await selectElection(form, election);
    await form.locator('vaadin-text-field[label="Channel"] input').fill(channel);
    await form.locator('vaadin-text-area[label="Payload"] textarea').fill(payload);
    await form.getByRole('button', { name: 'Send test notification' }).click();
    const answer = page.locator('vaadin-notification-card').filter({ hasText: 'channel' }).first();
    await answer.waitFor();
    console.log('SENT ' + (await answer.innerText()).trim());

    await shoot(page, 'devui-elections.png');

    await page.getByText('Dead letters', { exact: true }).first().click();
    await page.waitForURL(/quarkus-leader\/dead-letters/);
    const channels = page.locator('qwc-leader-dead-letters vaadin-grid').first();
    await page.locator('qwc-leader-dead-letters vaadin-grid-cell-content', { hasText: '#' }).first().waitFor();
    console.log('DEAD_LETTERS ' + JSON.stringify({
        channels: await channels.evaluate(g => g.items.map(c => c.channel)),
        cells: await cells(channels),
        hidden: await hidden(channels),
    }));
    await shoot(page, 'devui-dead-letters.png');
    if (errors.length > 0) {
        console.log('PAGE ERRORS ' + JSON.stringify(errors));
    }
} catch (error) {
    console.log('FAILED ' + error.message.split('\n')[0]);
    if (page) {
        await shoot(page, 'devui-failed.png').catch(() => {});
    }
    process.exitCode = 1;
} finally {
    await browser.close();
}

async function selectElection(form, name) {
    const select = form.locator('vaadin-select[label="Election"]');
    if ((await select.evaluate(s => s.value)) === name) {
        return;
    }
    await select.click();
    await form.page().locator('vaadin-select-item', { hasText: name }).first().click();
}

async function shoot(page, name) {
    const file = `${screenshots}/${name}`;
    await page.screenshot({ path: file, fullPage: true });
    console.log('SCREENSHOT ' + file);
}

async function cells(grid) {
    const texts = await grid.locator('vaadin-grid-cell-content').allInnerTexts();
    return texts.map(c => c.trim()).filter(c => c.length > 0);
}

// cells out of sight: laid out beyond the grid's right edge (seen only by scrolling it sideways) or cut short
async function hidden(grid) {
    return grid.evaluate(g => {
        const right = g.getBoundingClientRect().right + 1;
        return [...g.querySelectorAll('vaadin-grid-cell-content')]
            .filter(cell => cell.innerText.trim())
            .filter(cell => cell.getBoundingClientRect().right > right || cell.scrollWidth > cell.clientWidth + 1)
            .map(cell => cell.innerText.trim());
    });
}
