// Checks of the e2e helpers that need no pogo-node: binary paths, free ports, the node process handling
// (with a stand-in node that answers `chain_getHeader`), and the fixture's output (skipped without it).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import { binaries, fixture, freePort, startNode, verdictFixture, waitForNode } from './lib.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pogo-client-lib-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** An executable stand-in for pogo-node: serves `chain_getHeader` on `--rpc-port`, or exits at once. */
function fakeNode(name, { exitAtOnce = false, ignoreSigterm = false } = {}) {
  const file = path.join(tmp, name);
  const body = exitAtOnce
    ? `console.log('fake node: failing'); process.exit(3);`
    : `${ignoreSigterm ? "process.on('SIGTERM', () => console.log('fake node: ignoring SIGTERM'));" : ''}
const http = require('node:http');
const port = Number(process.argv[process.argv.indexOf('--rpc-port') + 1]);
let block = 0;
setInterval(() => { block += 1; }, 100);
http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    const { id } = JSON.parse(body);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ jsonrpc: '2.0', id, result: { number: '0x' + block.toString(16) } }));
  });
}).listen(port, '127.0.0.1', () => console.log('fake node: rpc on ' + port));
`;
  fs.writeFileSync(file, `#!/usr/bin/env node\n${body}\n`, { mode: 0o755 });
  return file;
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('lib helpers', () => {
  test('binaries default to the pogo target dir and honour POGO_NODE/POGO_FIXTURE', () => {
    assert.deepEqual(binaries({ HOME: '/h' }), {
      node: '/h/.cache/pogo/target/testnet/pogo-node',
      fixture: '/h/.cache/pogo/target/testnet/examples/round_fixture',
    });
    assert.deepEqual(binaries({ HOME: '/h', CARGO_TARGET_DIR: '/t' }).node, '/t/testnet/pogo-node');
    assert.deepEqual(binaries({ POGO_NODE: '/n', POGO_FIXTURE: '/f' }), { node: '/n', fixture: '/f' });
  });

  test('freePort returns a port that can be bound', async () => {
    const port = await freePort();
    assert.ok(port > 0 && port < 65536);
    await new Promise((resolve, reject) => {
      const s = net.createServer().once('error', reject);
      s.listen(port, '127.0.0.1', () => s.close(resolve));
    });
  });

  test('startNode logs, waitForNode sees blocks, stop kills the node by its PID', async () => {
    const logFile = path.join(tmp, 'node.log');
    const node = await startNode({ bin: fakeNode('fake-node'), logFile });
    try {
      assert.ok(alive(node.pid));
      assert.ok(node.args.includes('--dev') && node.args.includes('--no-prometheus'));
      assert.equal(node.args[node.args.indexOf('--rpc-port') + 1], String(node.rpcPort));
      const block = await waitForNode(node, { timeoutMs: 10_000, minBlock: 3, pollMs: 50 });
      assert.ok(block >= 3);
    } finally {
      const exit = await node.stop(5_000);
      assert.equal(exit.signal, 'SIGTERM');
    }
    assert.ok(!alive(node.pid), 'node process is gone');
    const log = fs.readFileSync(logFile, 'utf8');
    assert.match(log, /--dev-block-time 1000/);
    assert.match(log, /fake node: rpc on \d+/);
  });

  test('stop falls back to SIGKILL when the node ignores SIGTERM', async () => {
    const node = await startNode({ bin: fakeNode('stubborn-node', { ignoreSigterm: true }), logFile: path.join(tmp, 'stubborn.log') });
    await waitForNode(node, { timeoutMs: 10_000, pollMs: 50 });
    const exit = await node.stop(500);
    assert.equal(exit.signal, 'SIGKILL');
    assert.ok(!alive(node.pid));
  });

  for (const how of ['exit', 'SIGINT', 'SIGTERM']) {
    test(`the node is killed when the test process ends by ${how} without stop()`, async () => {
      const bin = fakeNode(`orphan-${how}`);
      const script = path.join(tmp, `owner-${how}.mjs`);
      fs.writeFileSync(
        script,
        `import { startNode, waitForNode } from ${JSON.stringify(new URL('./lib.js', import.meta.url).href)};
const node = await startNode({ bin: ${JSON.stringify(bin)}, logFile: ${JSON.stringify(path.join(tmp, `orphan-${how}.log`))} });
await waitForNode(node, { timeoutMs: 10_000, pollMs: 50 });
console.log(node.pid);
${how === 'exit' ? 'process.exit(0);' : 'setInterval(() => {}, 1000);'}
`,
      );
      const { spawn } = await import('node:child_process');
      const owner = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
      const pid = await new Promise((resolve, reject) => {
        owner.stdout.once('data', (d) => resolve(Number(String(d).trim())));
        owner.once('exit', () => reject(new Error('owner exited before starting the node')));
      });
      assert.ok(alive(pid));
      const ownerExit = new Promise((resolve) => owner.once('exit', (code, signal) => resolve({ code, signal })));
      if (how !== 'exit') owner.kill(how);
      const { code } = await ownerExit;
      assert.equal(code, { exit: 0, SIGINT: 130, SIGTERM: 143 }[how]);
      for (let i = 0; i < 50 && alive(pid); i += 1) await new Promise((r) => setTimeout(r, 100));
      assert.ok(!alive(pid), `node ${pid} killed`);
    });
  }

  test('waitForNode fails fast with the log when the node exits', async () => {
    const logFile = path.join(tmp, 'dead.log');
    const node = await startNode({ bin: fakeNode('dead-node', { exitAtOnce: true }), logFile });
    await assert.rejects(waitForNode(node, { timeoutMs: 10_000, pollMs: 50 }), /exited.*"code":3[\s\S]*fake node: failing/);
    await node.stop();
  });

  test('startNode refuses a missing binary', async () => {
    await assert.rejects(startNode({ bin: path.join(tmp, 'nope'), logFile: path.join(tmp, 'x.log') }), /not found/);
  });
});

const fixtureBin = binaries().fixture;
describe('round_fixture output', { skip: fs.existsSync(fixtureBin) ? false : `no fixture at ${fixtureBin}` }, () => {
  const isHex = (v, bytes) => typeof v === 'string' && /^0x[0-9a-f]*$/.test(v) && (bytes === undefined || v.length === 2 + 2 * bytes);

  test('task: hex fields of the right sizes, deterministic, commitment on the initial root', () => {
    const fx = fixture(fixtureBin, 'task');
    for (const k of ['initialRoot', 'finalRoot', 'trainRoot', 'evalRoot']) assert.ok(isHex(fx[k], 32), k);
    // RoundCommitment: three roots + three u32.
    assert.ok(isHex(fx.commitment, 3 * 32 + 3 * 4));
    assert.ok(isHex(fx.badCommitment, 3 * 32 + 3 * 4));
    assert.ok(fx.commitment.startsWith(fx.initialRoot), 'base_root is the initial root');
    assert.ok(!fx.badCommitment.startsWith(fx.initialRoot), 'bad commitment has another base root');
    assert.ok(fx.commitment.includes(fx.finalRoot.slice(2)), 'final root inside the commitment');
    assert.ok(isHex(fx.spec) && isHex(fx.fraudProof));
    assert.equal(fx.spec.slice(0, 66), fx.modelHash, 'the spec starts with the model hash');
    assert.equal(fx.spec.slice(66, 82), '5802000000000000', 'then param_count 600 as u64 LE');
    assert.equal(fx.stepsPerRound, 6);
    assert.equal(fx.leafCount, 3);
    assert.deepEqual(fixture(fixtureBin, 'task'), fx);
  });

  test('verdict: SCALE verdicts and commitments bound to id, account, verdict and salt', () => {
    const a = `0x${'ab'.repeat(32)}`;
    const b = `0x${'cd'.repeat(32)}`;
    const salt = `0x${'01'.repeat(32)}`;
    const base = verdictFixture(fixtureBin, 7, a, 'positive', salt);
    assert.equal(base.verdict, '0x00');
    assert.ok(isHex(base.commitment, 32));
    assert.deepEqual(verdictFixture(fixtureBin, 7, a, 'positive', salt), base);
    assert.equal(verdictFixture(fixtureBin, 7, a, 'bad-gradient:3', salt).verdict, '0x010003000000');
    assert.equal(verdictFixture(fixtureBin, 7, a, 'inconsistent', salt).verdict, '0x0101');
    assert.equal(verdictFixture(fixtureBin, 7, a, 'no-progress', salt).verdict, '0x0102');
    assert.equal(verdictFixture(fixtureBin, 7, a, 'unavailable', salt).verdict, '0x0103');
    const others = [
      verdictFixture(fixtureBin, 8, a, 'positive', salt),
      verdictFixture(fixtureBin, 7, b, 'positive', salt),
      verdictFixture(fixtureBin, 7, a, 'no-progress', salt),
      verdictFixture(fixtureBin, 7, a, 'positive', `0x${'02'.repeat(32)}`),
    ];
    for (const o of others) assert.notEqual(o.commitment, base.commitment);
  });

  test('bad arguments exit with status 2 and a usage message', () => {
    for (const args of [[], ['nope'], ['verdict', '1', '0x12', 'positive', `0x${'00'.repeat(32)}`], ['verdict', '1', `0x${'00'.repeat(32)}`, 'maybe', `0x${'00'.repeat(32)}`]]) {
      assert.throws(
        () => execFileSync(fixtureBin, args, { stdio: 'pipe' }),
        (e) => e.status === 2 && /usage: round_fixture/.test(String(e.stderr)),
        JSON.stringify(args),
      );
    }
  });
});
