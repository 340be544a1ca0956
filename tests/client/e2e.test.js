// End-to-end test of pogo-node from a polkadot.js client, with no custom types: one PoGO round from task
// creation to finalization on a `--dev` chain (phases moved by the chain itself, on_idle, with no advance
// call), and one rejected bad input per call family, each with its
// typed module error and no change of the pallet's storage. One assigned verifier commits and reveals
// with polkadot.js alone (pogoApi.verdictCommitment), as docs/verify-with-polkadotjs.md tells a person.
//
//   POGO_NODE     pogo-node binary       (default $CARGO_TARGET_DIR/testnet/pogo-node)
//   POGO_FIXTURE  round_fixture binary   (default $CARGO_TARGET_DIR/testnet/examples/round_fixture)
//   CARGO_TARGET_DIR                     (default $HOME/.cache/pogo/target)
//   POGO_NODE_LOG node log file          (default <tmpdir>/pogo-e2e-<time>.log)
//   POGO_NODE_ARGS extra node arguments, space-separated
//   POGO_E2E_CHALLENGE_TIMEOUT_S  bound on waiting for the challenge (default 240)
//
// Run: scripts/client-test.sh (or `node --test tests/client/` with both binaries built).
//
// The dev chain mocks the relay chain with 10 parachain blocks per relay epoch; a challenge uses the
// randomness of the relay epoch two after the submission's, so it is fixed 10-30 blocks after inclusion.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { cryptoWaitReady, randomAsHex } from '@polkadot/util-crypto';

import {
  UNIT,
  binaries,
  findEvents,
  fixture,
  hexOf,
  send,
  startNode,
  tail,
  verdictFixture,
  waitForEvent,
  readAt,
  entriesAt,
  eventsAt,
  waitForNode,
} from './lib.js';

const bins = binaries();
const BLOCK_TIME_MS = 1000;
const CHALLENGE_TIMEOUT_MS = 1000 * Number(process.env.POGO_E2E_CHALLENGE_TIMEOUT_S || 240);
const LOCATOR = 'https://data.example/pogo-e2e-task';
const MINER_LOCATOR = 'https://miner.example/pogo-e2e/round-0';

/** What the tests learn as they go (each test needs the earlier ones). */
const s = {};
/** Lines of the final summary. */
const summary = [];
const note = (line) => {
  summary.push(line);
};

/** Fails with a clear message when an earlier step did not produce what this one needs. */
function need(value, what) {
  assert.ok(value !== undefined && value !== null, `needs ${what} from an earlier test`);
  return value;
}

/** Asserts that the send result failed with `pogo.<name>`. */
function assertPogoError(result, name) {
  assert.ok(result.error, `expected pogo.${name}, but the call succeeded`);
  assert.equal(result.error.text, `pogo.${name}`, `expected pogo.${name}, got ${result.error.text}`);
}

/**
 * Sends a call that must fail with `pogo.<error>` and checks that `watch(api)` (codecs of the relevant
 * storage) reads the same before the call and in the block that included it.
 */
async function expectRejected({ tx, signer, error, watch }) {
  const before = hexOf(await watch(s.api));
  const result = await send(s.api, tx, signer);
  assertPogoError(result, error);
  assert.equal(findEvents(result, 'system', 'ExtrinsicFailed').length, 1);
  const after = hexOf(await watch(await s.api.at(result.blockHash)));
  assert.deepEqual(after, before, `pogo.${error} must leave storage unchanged`);
  note(`rejected ${tx.method.section}.${tx.method.method}: pogo.${error}, storage unchanged`);
  return result;
}

/** Sends a call that must succeed; returns the result. */
async function expectOk(tx, signer) {
  const result = await send(s.api, tx, signer);
  assert.equal(result.error, null, `${tx.method.section}.${tx.method.method} failed: ${result.error?.text}`);
  return result;
}

/** The single `pogo.<method>` event of a result. */
function theEvent(result, method) {
  const found = findEvents(result, 'pogo', method);
  assert.equal(found.length, 1, `expected one pogo.${method} event, got ${found.length}`);
  return found[0].data;
}

const hex32 = (pair) => u8aToHex(pair.publicKey);

describe('pogo-node end to end (polkadot.js, no custom types)', { concurrency: false }, () => {
  before(async () => {
    for (const [what, bin] of Object.entries(bins)) {
      assert.ok(fs.existsSync(bin), `${what} binary missing: ${bin}`);
    }
    s.fx = fixture(bins.fixture, 'task');
    const logFile = process.env.POGO_NODE_LOG || path.join(os.tmpdir(), `pogo-e2e-${Date.now()}.log`);
    const extraArgs = (process.env.POGO_NODE_ARGS || '').split(/\s+/).filter(Boolean);
    s.node = await startNode({ bin: bins.node, logFile, blockTimeMs: BLOCK_TIME_MS, extraArgs });
    console.log(`# pogo-node pid ${s.node.pid}, rpc ${s.node.wsUrl}, log ${logFile}`);
    await waitForNode(s.node, { timeoutMs: 180_000, minBlock: 1 });
    s.provider = new WsProvider(s.node.wsUrl);
    try {
      s.api = await ApiPromise.create({ provider: s.provider, noInitWarn: true, throwOnConnect: true });
    } catch (e) {
      // The provider would keep reconnecting (and this process alive) after a failed start.
      await s.provider.disconnect().catch(() => {});
      throw new Error(`polkadot.js cannot connect to ${s.node.wsUrl}: ${e?.message ?? e?.type ?? e}; log ${logFile}:\n${tail(logFile)}`);
    }
    await cryptoWaitReady();
    const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
    const k = (uri) => keyring.addFromUri(uri, { name: uri });
    s.alice = k('//Alice'); // task owner
    s.bob = k('//Bob'); // miner
    s.verifiers = [k('//Charlie'), k('//Dave'), k('//Eve'), k('//Ferdie'), k('//Alice//stash')];
    s.keeper = k('//Bob//stash'); // calls `advance` (anyone may)
    s.reporter = k('//Charlie//stash'); // reports fraud
    s.byHex = new Map([s.alice, s.bob, ...s.verifiers, s.keeper, s.reporter].map((p) => [hex32(p), p]));
  }, { timeout: 300_000 });

  after(async () => {
    if (s.api) await s.api.disconnect().catch(() => {});
    else if (s.provider) await s.provider.disconnect().catch(() => {});
    if (s.node) {
      const exit = await s.node.stop();
      note(`pogo-node (pid ${s.node.pid}) stopped: ${JSON.stringify(exit)}; log ${s.node.logFile}`);
    }
    console.log(['# ---- pogo e2e summary ----', ...summary.map((l) => `# ${l}`)].join('\n'));
  });

  test('the chain exposes pallet-pogo, its constants and the PogoApi runtime API', async () => {
    const { api } = s;
    assert.ok(api.tx.pogo, 'pallet pogo in the metadata');
    assert.ok(api.call.pogoApi, 'runtime API PogoApi in the metadata (needs metadata V15+)');
    for (const m of ['taskIds', 'task', 'stateRoot', 'submission', 'pendingSubmissions', 'roundSeed', 'verifierDuty', 'bond', 'verdictCommitment']) {
      assert.equal(typeof api.call.pogoApi[m], 'function', `pogoApi.${m}`);
    }
    const c = api.consts.pogo;
    s.minWindow = c.minWindow.toNumber();
    s.minVerifierBond = c.minVerifierBond.toBigInt();
    s.maxWindow = c.maxWindow.toNumber();
    s.fraudWindow = c.fraudWindow.toNumber();
    // The dev chain's windows depend on the runtime build (production: MinWindow 50, FraudWindow 14,400;
    // `fast-runtime`, the project's test build: 2 and 20). Read them, check that they are coherent, and
    // size the task's windows from them.
    assert.ok(s.minWindow >= 1 && s.minWindow <= s.maxWindow, `MinWindow ${s.minWindow} <= MaxWindow ${s.maxWindow}`);
    assert.ok(s.fraudWindow >= 1, 'FraudWindow');
    assert.ok(c.unbondingPeriod.toNumber() > 2 * s.maxWindow + s.fraudWindow, 'UnbondingPeriod covers a disputed round');
    s.window = Math.min(s.maxWindow, Math.max(s.minWindow, 20));
    assert.equal(s.minVerifierBond, 10n * UNIT);
    assert.equal(c.submissionDeposit.toBigInt(), UNIT);
    assert.equal(c.maxLocatorLen.toNumber(), 256);
    assert.equal(c.challengeEpochDelay.toNumber(), 2);
    const chain = (await api.rpc.system.chain()).toString();
    const head = (await api.rpc.chain.getHeader()).number.toNumber();
    note(`chain "${chain}", runtime ${api.runtimeVersion.specName} v${api.runtimeVersion.specVersion}, best block ${head}`);
    note(`MinWindow ${s.minWindow}, MaxWindow ${s.maxWindow}, FraudWindow ${s.fraudWindow} blocks; task windows ${s.window} blocks; MinVerifierBond ${s.minVerifierBond / UNIT} UNIT`);
  });

  test('fixture bytes decode into the metadata types and re-encode identically', () => {
    const { api, fx } = s;
    const create = api.tx.pogo.createTask(fx.spec, fx.model, taskParams(), fx.initialRoot, dataset(), 100n * UNIT);
    assert.equal(create.method.args[0].toHex(), fx.spec, 'TrainingSpec');
    assert.equal(create.method.args[0].toJSON().paramCount, 600);
    assert.equal(create.method.args[1].toHex(), fx.model, 'BoundedModelDescriptor');
    assert.equal(create.method.args[3].toHex(), fx.initialRoot, 'initial root');
    const submit = api.tx.pogo.submitRound(0, fx.commitment, MINER_LOCATOR);
    assert.equal(submit.method.args[1].toHex(), fx.commitment, 'RoundCommitment');
    assert.equal(submit.method.args[1].toJSON().finalRoot, fx.finalRoot);
    assert.equal(submit.method.args[1].toJSON().baseRoot, fx.initialRoot);
    const fraud = api.tx.pogo.reportFraud(0, fx.fraudProof);
    assert.equal(fraud.method.args[1].toHex(), fx.fraudProof, 'FraudProof');
    const v = verdictFixture(bins.fixture, 0, hex32(s.bob), 'bad-gradient:3', randomAsHex(32));
    const reveal = api.tx.pogo.revealVerdict(0, v.verdict, randomAsHex(32));
    assert.deepEqual(reveal.method.args[1].toJSON(), { negative: { badGradient: { step: 3 } } }, 'Verdict');
    note(`fixture: spec ${(fx.spec.length - 2) / 2} B, commitment ${(fx.commitment.length - 2) / 2} B, fraud proof ${(fx.fraudProof.length - 2) / 2} B`);
  });

  test('bond of zero fails with ZeroAmount', async () => {
    const { api, verifiers } = s;
    const who = verifiers[0];
    await expectRejected({
      tx: api.tx.pogo.bond('Verifier', 0),
      signer: who,
      error: 'ZeroAmount',
      watch: async (at) => ({
        ledger: await at.query.pogo.verifierBonds(who.address),
        count: await at.query.pogo.counterForVerifierBonds(),
        holds: await at.query.balances.holds(who.address),
      }),
    });
  });

  test('Bob bonds as miner, five accounts bond as verifiers', async () => {
    const { api, bob, verifiers } = s;
    const minerBond = 500n * UNIT;
    const verifierBond = 10n * s.minVerifierBond;
    const results = await Promise.all([
      expectOk(api.tx.pogo.bond('Miner', minerBond), bob),
      ...verifiers.map((v) => expectOk(api.tx.pogo.bond('Verifier', verifierBond), v)),
    ]);
    for (const r of results) theEvent(r, 'Bonded');
    assert.equal((await api.query.pogo.minerBonds(bob.address)).unwrap().held.toBigInt(), minerBond);
    for (const v of verifiers) {
      const ledger = (await api.call.pogoApi.bond(v.address, 'Verifier')).unwrap();
      assert.equal(ledger.held.toBigInt(), verifierBond);
    }
    note(`bonded: Bob ${minerBond / UNIT} UNIT as miner; ${verifiers.length} verifiers ${verifierBond / UNIT} UNIT each`);
  });

  test('createTask with zero verifiers fails with InvalidTaskParams, an invalid spec with SpecRoundShapeInvalid, sampled replay without leaves with NoLeavesForSampledReplay', async () => {
    const { api, alice, fx } = s;
    const watch = async (at) => ({
      next: await at.query.pogo.nextTaskId(),
      count: await at.query.pogo.counterForTasks(),
      holds: await at.query.balances.holds(alice.address),
    });
    await expectRejected({
      tx: api.tx.pogo.createTask(fx.spec, fx.model, taskParams({ verifiers: 0 }), fx.initialRoot, dataset(), 100n * UNIT),
      signer: alice,
      error: 'InvalidTaskParams',
      watch,
    });
    const spec = api.tx.pogo.createTask(fx.spec, fx.model, taskParams(), fx.initialRoot, dataset(), 0).method.args[0].toJSON();
    await expectRejected({
      tx: api.tx.pogo.createTask({ ...spec, checkpointInterval: 0 }, fx.model, taskParams(), fx.initialRoot, dataset(), 100n * UNIT),
      signer: alice,
      error: 'SpecRoundShapeInvalid',
      watch,
    });
    // Sampled replay (protocol section 11b) replays the sampled leaves: none is refused.
    await expectRejected({
      tx: api.tx.pogo.createTask(fx.spec, fx.model, taskParams({ verification: 'SampledReplay', samples: { steps: 2, leaves: 0, evalExamples: 8 } }), fx.initialRoot, dataset(), 100n * UNIT),
      signer: alice,
      error: 'NoLeavesForSampledReplay',
      watch,
    });
  });

  // Issue 10, attack 9: what a user could once do for free or make every RPC node compute.
  test('a model nobody can train, unbounded samples and an escrow of zero cost nothing no more', async () => {
    const { api, alice, fx } = s;
    const watch = async (at) => ({
      next: await at.query.pogo.nextTaskId(),
      count: await at.query.pogo.counterForTasks(),
      holds: await at.query.balances.holds(alice.address),
    });
    const spec = api.tx.pogo.createTask(fx.spec, fx.model, taskParams(), fx.initialRoot, dataset(), 0).method.args[0].toJSON();
    await expectRejected({
      tx: api.tx.pogo.createTask({ ...spec, paramCount: '18446744073709551615' }, fx.model, taskParams(), fx.initialRoot, dataset(), 0),
      signer: alice,
      error: 'SpecTooManyParameters',
      watch,
    });
    for (const samples of [
      { steps: 2, leaves: 4294967295, evalExamples: 8 },
      { steps: 2, leaves: 2, evalExamples: 4294967295 },
    ]) {
      await expectRejected({
        tx: api.tx.pogo.createTask(fx.spec, fx.model, taskParams({ samples }), fx.initialRoot, dataset(), 0),
        signer: alice,
        error: 'SampleSizesOutOfRange',
        watch,
      });
    }
    // A task with no escrow still holds its storage deposit, released when it is closed.
    // TaskDeposit for the record plus ModelByteDeposit for each byte of the model descriptor.
    const modelBytes = BigInt((fx.model.length - 2) / 2);
    const deposit = api.consts.pogo.taskDeposit.toBigInt() + api.consts.pogo.modelByteDeposit.toBigInt() * modelBytes;
    assert.ok(api.consts.pogo.taskDeposit.toBigInt() > 0n && api.consts.pogo.modelByteDeposit.toBigInt() > 0n, 'deposits');
    const held = async (at) =>
      (await at.query.balances.holds(alice.address))
        .filter((h) => h.id.toJSON()?.pogo === 'TaskDeposit')
        .reduce((sum, h) => sum + h.amount.toBigInt(), 0n);
    const before = await held(api);
    const created = await expectOk(api.tx.pogo.createTask(fx.spec, fx.model, taskParams(), fx.initialRoot, dataset(), 0), alice);
    const id = theEvent(created, 'TaskCreated').task.toNumber();
    assert.equal(await held(await api.at(created.blockHash)), before + deposit, 'the deposit is held');
    const closed = await expectOk(api.tx.pogo.closeTask(id), alice);
    assert.equal(await held(await api.at(closed.blockHash)), before, 'and released on close');
    // Reads are paged: asking for every task id returns at most one page.
    const page = await api.call.pogoApi.taskIds(0, 4294967295);
    assert.ok(page.length <= 1000, `taskIds page of ${page.length}`);
    note(`refused: paramCount 2^64-1 (SpecTooManyParameters), unbounded samples (SampleSizesOutOfRange); a task with no escrow held ${deposit / UNIT} UNIT until closed`);
  });

  test('Alice creates a task from the fixture spec and initial root', async () => {
    const { api, alice, fx } = s;
    const escrow = 100n * UNIT;
    const result = await expectOk(api.tx.pogo.createTask(fx.spec, fx.model, taskParams(), fx.initialRoot, dataset(), escrow), alice);
    const ev = theEvent(result, 'TaskCreated');
    s.task = ev.task.toNumber();
    assert.equal(ev.owner.toHex(), hex32(alice));
    assert.equal(ev.stateRoot.toHex(), fx.initialRoot);
    assert.equal(ev.escrow.toBigInt(), escrow);
    const stored = (await api.query.pogo.tasks(s.task)).unwrap();
    assert.equal(stored.stateRoot.toHex(), fx.initialRoot);
    assert.equal(stored.spec.toHex(), fx.spec);
    assert.equal(stored.params.verifiers.toNumber(), 3);
    const ids = (await api.call.pogoApi.taskIds(0, 1000)).map((x) => x.toNumber());
    assert.ok(ids.includes(s.task), `taskIds ${ids}`);
    const view = (await api.call.pogoApi.task(s.task)).unwrap();
    assert.equal(view.stateRoot.toHex(), fx.initialRoot);
    assert.equal(view.round.toNumber(), 0);
    assert.equal(view.locator.toUtf8(), LOCATOR);
    // The model it trains, readable from metadata alone: names and shapes in flattening order.
    const model = (await api.query.pogo.taskModels(s.task)).unwrap();
    assert.equal(model.toHex(), fx.model);
    assert.equal(model.architecture.toUtf8(), 'mlp {"inputs":19,"hidden":[19],"classes":11}');
    assert.deepEqual(
      model.tensors.map((t) => [t.name.toUtf8(), t.shape.map((d) => d.toNumber())]),
      [['fc0.weight', [19, 19]], ['fc0.bias', [19]], ['fc1.weight', [11, 19]], ['fc1.bias', [11]]],
    );
    assert.equal(stored.spec.model.toHex(), fx.modelHash, 'the spec commits the descriptor');
    note(`task ${s.task} created by Alice, escrow ${escrow / UNIT} UNIT, root ${fx.initialRoot}, model ${model.tensors.length} tensors`);
  });

  test('createTask with a model the spec does not commit fails with ModelHashMismatch', async () => {
    const { api, alice, fx } = s;
    // The same tensors in another order: another flattening, so another model.
    const model = api.tx.pogo.createTask(fx.spec, fx.model, taskParams(), fx.initialRoot, dataset(), 0).method.args[1].toJSON();
    const other = { ...model, tensors: [...model.tensors].reverse() };
    await expectRejected({
      tx: api.tx.pogo.createTask(fx.spec, other, taskParams(), fx.initialRoot, dataset(), 0),
      signer: alice,
      error: 'ModelHashMismatch',
      watch: async (at) => ({ next: await at.query.pogo.nextTaskId(), holds: await at.query.balances.holds(alice.address) }),
    });
  });

  test('submitRound on a wrong base root fails with WrongBaseRoot', async () => {
    const { api, bob, fx } = s;
    const task = need(s.task, 'the task');
    await expectRejected({
      tx: api.tx.pogo.submitRound(task, fx.badCommitment, MINER_LOCATOR),
      signer: bob,
      error: 'WrongBaseRoot',
      watch: async (at) => ({
        next: await at.query.pogo.nextSubmissionId(),
        count: await at.query.pogo.counterForSubmissions(),
        pending: await at.query.pogo.pendingByTask(task),
        bond: await at.query.pogo.minerBonds(bob.address),
        task: await at.query.pogo.tasks(task),
      }),
    });
  });

  test('Bob submits the fixture round 0', async () => {
    const { api, bob, fx } = s;
    const task = need(s.task, 'the task');
    const seed = await api.call.pogoApi.roundSeed(task, bob.address);
    assert.ok(seed.isSome, 'round seed for Bob');
    const result = await expectOk(api.tx.pogo.submitRound(task, fx.commitment, MINER_LOCATOR), bob);
    const ev = theEvent(result, 'RoundSubmitted');
    s.submission = ev.submission.toNumber();
    s.submittedAt = (await api.rpc.chain.getHeader(result.blockHash)).number.toNumber();
    assert.equal(ev.task.toNumber(), task);
    assert.equal(ev.round.toNumber(), 0);
    assert.equal(ev.baseRoot.toHex(), fx.initialRoot);
    assert.equal(ev.finalRoot.toHex(), fx.finalRoot);
    const sub = (await api.query.pogo.submissions(s.submission)).unwrap();
    assert.ok(sub.phase.isAwaitingChallenge, `phase ${sub.phase.type}`);
    assert.equal(sub.commitment.toHex(), fx.commitment);
    s.relayEpoch = sub.relayEpoch.toNumber();
    const pending = (await api.call.pogoApi.pendingSubmissions(task)).map((v) => v.id.toNumber());
    assert.deepEqual(pending, [s.submission]);
    note(`submission ${s.submission} included in block ${s.submittedAt}, relay epoch ${s.relayEpoch}`);
  });

  test('advance on an unknown submission fails with UnknownSubmission', async () => {
    const { api, keeper } = s;
    const unknown = 1_000_000 + need(s.submission, 'the submission');
    await expectRejected({
      tx: api.tx.pogo.advance(unknown),
      signer: keeper,
      error: 'UnknownSubmission',
      watch: async (at) => ({
        next: await at.query.pogo.nextSubmissionId(),
        count: await at.query.pogo.counterForSubmissions(),
        sub: await at.query.pogo.submissions(unknown),
      }),
    });
  });

  test('advance before the challenge epoch fails with ChallengeNotReady', async () => {
    const { api, keeper } = s;
    const id = need(s.submission, 'the submission');
    await expectRejected({
      tx: api.tx.pogo.advance(id),
      signer: keeper,
      error: 'ChallengeNotReady',
      watch: async (at) => ({ sub: await at.query.pogo.submissions(id), snapshot: await at.query.pogo.snapshots(id) }),
    });
  });

  test('the chain fixes the challenge by itself (on_idle) once relay randomness two epochs later is recorded', { timeout: CHALLENGE_TIMEOUT_MS + 60_000 }, async () => {
    const { api } = s;
    const id = need(s.submission, 'the submission');
    const started = Date.now();
    // Nobody calls advance: pallet-pogo's on_idle moves every due submission.
    const found = await waitForEvent(api, {
      fromBlock: s.submittedAt,
      section: 'pogo',
      method: 'ChallengeFixed',
      match: (d) => d.submission.toNumber() === id,
      timeoutMs: CHALLENGE_TIMEOUT_MS,
    });
    const fixed = found.data;
    s.fixedAt = found.block;
    assert.equal(fixed.submission.toNumber(), id);
    assert.equal(fixed.level.toNumber(), 0);
    assert.equal(fixed.verifiers.toNumber(), 3, 'three verifiers drawn');
    const view = (await api.call.pogoApi.submission(id)).unwrap();
    assert.ok(view.phase.isCommitting, `phase ${view.phase.type}`);
    assert.equal(view.challenge.unwrap().toHex(), fixed.challenge.toHex());
    const assigned = view.assigned.filter(([, , level]) => level.toNumber() === 0).map(([who]) => who.toHex());
    // The same assignment in storage.
    const stored = (await api.query.pogo.submissions(id)).unwrap().assigned.map((a) => a.who.toHex());
    assert.deepEqual(stored, assigned);
    // The upgrade-proof readers (raw storage, the block's own metadata) agree with polkadot.js's api.at.
    const hash = (await api.rpc.chain.getBlockHash(found.block)).toHex();
    const at = await api.at(hash);
    assert.equal((await readAt(api, hash, 'pogo', 'submissions', id)).toHex(), (await at.query.pogo.submissions(id)).unwrap().toHex());
    assert.equal(await readAt(api, hash, 'pogo', 'submissions', 2 ** 32), null, 'nothing stored reads as null');
    const bonds = await entriesAt(api, hash, 'pogo', 'verifierBonds');
    assert.deepEqual(bonds.map(([k, v]) => [k, v.toHex()]).sort(),
      (await at.query.pogo.verifierBonds.entries()).map(([k, v]) => [k.toHex(), v.unwrap().toHex()]).sort());
    assert.equal((await eventsAt(api, found.block)).toHex(), (await at.query.system.events()).toHex());
    assert.equal(assigned.length, 3);
    s.assigned = assigned.map((h) => {
      const pair = s.byHex.get(h);
      assert.ok(pair, `assigned ${h} is one of our verifiers`);
      assert.ok(s.verifiers.includes(pair), `assigned ${pair.address} bonded as verifier`);
      return pair;
    });
    s.unassigned = s.verifiers.find((v) => !assigned.includes(hex32(v))) ?? s.alice;
    for (const v of s.assigned) {
      const duty = await api.call.pogoApi.verifierDuty(id, v.address);
      assert.ok(duty.isSome, `duty of ${v.address}`);
      assert.equal(duty.unwrap().samples.steps.length, 2);
    }
    assert.ok((await api.call.pogoApi.verifierDuty(id, s.unassigned.address)).isNone);
    note(`ChallengeFixed by on_idle in block ${s.fixedAt} (${Math.round((Date.now() - started) / 1000)} s), ${s.fixedAt - s.submittedAt} blocks after inclusion, no advance call`);
    note(`assigned verifiers: ${s.assigned.map((p) => p.meta.name).join(', ')}; unassigned caller for NotAssigned: ${s.unassigned.meta.name}`);
  });

  test('commitVerdict from an unassigned account fails with NotAssigned', async () => {
    const { api } = s;
    const id = need(s.submission, 'the submission');
    const who = need(s.unassigned, 'the assignment');
    const salt = randomAsHex(32);
    const c = verdictFixture(bins.fixture, id, hex32(who), 'positive', salt);
    await expectRejected({
      tx: api.tx.pogo.commitVerdict(id, c.commitment),
      signer: who,
      error: 'NotAssigned',
      watch: async (at) => ({ att: await at.query.pogo.attestations(id, who.address), sub: await at.query.pogo.submissions(id) }),
    });
  });

  test('all assigned verifiers but one commit positive verdicts; the reveal waits for the last', async () => {
    const { api } = s;
    const id = need(s.submission, 'the submission');
    const assigned = need(s.assigned, 'the assignment');
    // The last assigned verifier commits in the next test, with polkadot.js alone.
    s.guide = assigned[assigned.length - 1];
    const others = assigned.filter((v) => v !== s.guide);
    s.votes = new Map();
    const results = await Promise.all(
      others.map((v) => {
        const salt = randomAsHex(32);
        const c = verdictFixture(bins.fixture, id, hex32(v), 'positive', salt);
        s.votes.set(hex32(v), { salt, ...c });
        return expectOk(api.tx.pogo.commitVerdict(id, c.commitment), v);
      }),
    );
    for (const r of results) theEvent(r, 'VerdictCommitted');
    for (const v of others) {
      const att = (await api.query.pogo.attestations(id, v.address)).unwrap();
      assert.equal(att.commitment.toHex(), s.votes.get(hex32(v)).commitment);
      assert.ok(att.revealed.isNone);
      assert.ok((await api.call.pogoApi.verifierDuty(id, v.address)).unwrap().committed.isTrue);
    }
    s.othersCommittedAt = Math.max(
      ...(await Promise.all(results.map(async (r) => (await api.rpc.chain.getHeader(r.blockHash)).number.toNumber()))),
    );
    const phase = (await api.call.pogoApi.submission(id)).unwrap().phase;
    assert.ok(phase.isCommitting, `still committing while ${s.guide.meta.name} has not committed (phase ${phase.type})`);
    note(`${others.length} verdict commitments from the fixture (Rust verdict_commitment); ${s.guide.meta.name} still to commit`);
  });

  // Exactly the steps of docs/verify-with-polkadotjs.md, with nothing but polkadot.js and the chain's
  // metadata: no fixture, no hashing in the client.
  test('an assigned verifier with polkadot.js alone: verifierDuty, verdictCommitment, commitVerdict, reveal window, revealVerdict', async () => {
    const { api } = s;
    const id = need(s.submission, 'the submission');
    const me = need(s.guide, 'the assignment');
    // 1. Your duty: the challenge, your verifier seed and the samples to check.
    const duty = await api.call.pogoApi.verifierDuty(id, me.address);
    assert.ok(duty.isSome, `duty of ${me.meta.name}`);
    assert.ok(duty.unwrap().committed.isFalse && duty.unwrap().revealed.isFalse);
    assert.equal(duty.unwrap().samples.steps.length, 2);
    // 2. (The checks of protocol section 11 pass: the verdict is Positive.) A fresh 32-byte salt, kept.
    const verdict = { Positive: null };
    const salt = randomAsHex(32);
    // 3. The commitment, from the runtime: Developer -> Runtime calls -> pogoApi.verdictCommitment.
    const commitment = (await api.call.pogoApi.verdictCommitment(id, me.address, verdict, salt)).toHex();
    assert.match(commitment, /^0x[0-9a-f]{64}$/);
    // It is the protocol's hash (protocol section 12; the Rust primitive, through the fixture) ...
    assert.equal(commitment, verdictFixture(bins.fixture, id, hex32(me), 'positive', salt).commitment);
    const negative = { Negative: { BadGradient: { step: 3 } } };
    const negativeCommitment = (await api.call.pogoApi.verdictCommitment(id, me.address, negative, salt)).toHex();
    assert.equal(negativeCommitment, verdictFixture(bins.fixture, id, hex32(me), 'bad-gradient:3', salt).commitment);
    // ... and it binds the verdict and the salt.
    assert.notEqual(negativeCommitment, commitment, 'another verdict, another commitment');
    const otherSalt = (await api.call.pogoApi.verdictCommitment(id, me.address, verdict, randomAsHex(32))).toHex();
    assert.notEqual(otherSalt, commitment, 'another salt, another commitment');
    // 4. Developer -> Extrinsics -> pogo.commitVerdict(submission, commitment).
    const committed = await expectOk(api.tx.pogo.commitVerdict(id, commitment), me);
    const ev = theEvent(committed, 'VerdictCommitted');
    assert.equal(ev.submission.toNumber(), id);
    assert.equal(ev.verifier.toHex(), hex32(me));
    assert.equal((await api.query.pogo.attestations(id, me.address)).unwrap().commitment.toHex(), commitment);
    assert.ok((await api.call.pogoApi.verifierDuty(id, me.address)).unwrap().committed.isTrue);
    // 5. Wait for the reveal window: pogoApi.submission(id).phase is Revealing(until). Every assigned
    // verifier has committed now, so the chain opens it at once.
    const committedAt = (await api.rpc.chain.getHeader(committed.blockHash)).number.toNumber();
    const { data: started, block: at } = await waitForEvent(api, {
      fromBlock: Math.min(committedAt, need(s.othersCommittedAt, 'the other commitments')),
      section: 'pogo',
      method: 'RevealStarted',
      match: (d) => d.submission.toNumber() === id,
    });
    assert.equal(started.until.toNumber(), at + s.window);
    let view;
    const deadline = Date.now() + 60_000;
    for (;;) {
      view = (await api.call.pogoApi.submission(id)).unwrap();
      if (view.phase.isRevealing || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.ok(view.phase.isRevealing, `phase ${view.phase.type}`);
    assert.equal(view.phase.asRevealing.toNumber(), started.until.toNumber());
    // 6. Developer -> Extrinsics -> pogo.revealVerdict(submission, verdict, salt), before `until`.
    const revealed = await expectOk(api.tx.pogo.revealVerdict(id, verdict, salt), me);
    const rev = theEvent(revealed, 'VerdictRevealed');
    assert.equal(rev.submission.toNumber(), id);
    assert.equal(rev.verifier.toHex(), hex32(me));
    assert.ok(rev.verdict.isPositive, `verdict ${rev.verdict.type}`);
    assert.ok((await api.query.pogo.attestations(id, me.address)).unwrap().revealed.unwrap().isPositive);
    assert.ok((await api.call.pogoApi.verifierDuty(id, me.address)).unwrap().revealed.isTrue);
    s.guideRevealed = true;
    note(`${me.meta.name} committed and revealed with pogoApi.verdictCommitment alone; reveal open from block ${at} until ${started.until.toNumber()}`);
  });

  test('revealVerdict with a wrong salt fails with RevealMismatch', async () => {
    const { api } = s;
    const id = need(s.submission, 'the submission');
    const v = need(s.assigned, 'the assignment')[0];
    const vote = need(s.votes?.get(hex32(v)), 'the commitment');
    await expectRejected({
      tx: api.tx.pogo.revealVerdict(id, vote.verdict, randomAsHex(32)),
      signer: v,
      error: 'RevealMismatch',
      watch: async (at) => ({ att: await at.query.pogo.attestations(id, v.address), sub: await at.query.pogo.submissions(id) }),
    });
  });

  test('the other verifiers reveal; the chain accepts the round with the fixture final root', async () => {
    const { api, fx } = s;
    const id = need(s.submission, 'the submission');
    const task = need(s.task, 'the task');
    const assigned = need(s.assigned, 'the assignment');
    assert.ok(s.guideRevealed, `${s.guide?.meta.name} revealed with polkadot.js alone`);
    const results = await Promise.all(
      assigned.filter((v) => v !== s.guide).map((v) => {
        const vote = s.votes.get(hex32(v));
        return expectOk(api.tx.pogo.revealVerdict(id, vote.verdict, vote.salt), v);
      }),
    );
    for (const r of results) assert.ok(theEvent(r, 'VerdictRevealed').verdict.isPositive);
    const first = Math.min(...(await Promise.all(results.map(async (r) => (await api.rpc.chain.getHeader(r.blockHash)).number.toNumber()))));
    const { data: ev, block: at } = await waitForEvent(api, {
      fromBlock: first,
      section: 'pogo',
      method: 'RoundAccepted',
      match: (d) => d.submission.toNumber() === id,
    });
    assert.equal(ev.submission.toNumber(), id);
    assert.equal(ev.task.toNumber(), task);
    assert.equal(ev.stateRoot.toHex(), fx.finalRoot);
    assert.equal(ev.finalAt.toNumber(), at + s.fraudWindow);
    // Verifiers stay at risk through the fraud window (a proven fraud would slash Positive voters).
    for (const v of assigned) {
      const ledger = (await api.call.pogoApi.bond(v.address, 'Verifier')).unwrap();
      assert.ok(ledger.atRisk.toBigInt() > 0n, `${v.meta.name} still at risk`);
    }
    s.acceptedAt = at;
    s.finalAt = ev.finalAt.toNumber();

    // The new root, in storage and through the runtime API.
    const stored = (await api.query.pogo.tasks(task)).unwrap();
    assert.equal(stored.stateRoot.toHex(), fx.finalRoot);
    assert.equal(stored.initialRoot.toHex(), fx.initialRoot);
    assert.equal(stored.round.toNumber(), 1);
    assert.equal(stored.stepsDone.toNumber(), fx.stepsPerRound);
    assert.equal((await api.call.pogoApi.stateRoot(task)).unwrap().toHex(), fx.finalRoot);
    const view = (await api.call.pogoApi.task(task)).unwrap();
    assert.equal(view.stateRoot.toHex(), fx.finalRoot);
    assert.equal(view.round.toNumber(), 1);
    assert.equal(view.stepsDone.toNumber(), fx.stepsPerRound);
    assert.equal(view.pending.toNumber(), 1, 'the accepted round stays pending until its fraud window closes');
    const sub = (await api.call.pogoApi.submission(id)).unwrap();
    assert.ok(sub.phase.isAccepted, `phase ${sub.phase.type}`);
    assert.equal(sub.phase.asAccepted.toNumber(), s.finalAt);
    note(`RoundAccepted in block ${at}: task ${task} root ${fx.finalRoot} (round 1, ${fx.stepsPerRound} steps), final at block ${s.finalAt}`);
  });

  test('reportFraud with the honest round fraud proof fails with FraudProofShowsNoFraud; the root stays', async () => {
    const { api, reporter, fx } = s;
    const id = need(s.submission, 'the submission');
    const task = need(s.task, 'the task');
    need(s.acceptedAt, 'the accepted round');
    await expectRejected({
      tx: api.tx.pogo.reportFraud(id, fx.fraudProof),
      signer: reporter,
      error: 'FraudProofShowsNoFraud',
      watch: async (at) => ({
        sub: await at.query.pogo.submissions(id),
        task: await at.query.pogo.tasks(task),
        bond: await at.query.pogo.minerBonds(s.bob.address),
      }),
    });
    assert.equal((await api.call.pogoApi.stateRoot(task)).unwrap().toHex(), fx.finalRoot);
  });

  test('advance within the fraud window fails with TooEarly (RoundFinalized needs FraudWindow blocks)', async () => {
    const { api, keeper } = s;
    const id = need(s.submission, 'the submission');
    const task = need(s.task, 'the task');
    need(s.finalAt, 'the accepted round');
    await expectRejected({
      tx: api.tx.pogo.advance(id),
      signer: keeper,
      error: 'TooEarly',
      watch: async (at) => ({ sub: await at.query.pogo.submissions(id), task: await at.query.pogo.tasks(task) }),
    });
  });

  test('after the fraud window the chain finalizes the round: miner and verifiers paid, bonds released, submission gone', async () => {
    const { api, bob, fx } = s;
    const id = need(s.submission, 'the submission');
    const task = need(s.task, 'the task');
    const finalAt = need(s.finalAt, 'the accepted round');
    // A production runtime's fraud window is a day: only a test build (fast-runtime) gets here in time.
    assert.ok(s.fraudWindow <= 600, `FraudWindow ${s.fraudWindow} blocks is too long for an e2e test; build with fast-runtime`);
    const escrowBefore = (await api.query.pogo.tasks(task)).unwrap().escrow.toBigInt();
    const freeBefore = (await api.query.system.account(bob.address)).data.free.toBigInt();
    const { data: ev, block: at } = await waitForEvent(api, {
      fromBlock: s.acceptedAt,
      section: 'pogo',
      method: 'RoundFinalized',
      match: (d) => d.submission.toNumber() === id,
      timeoutMs: (s.fraudWindow + 30) * BLOCK_TIME_MS * 3,
    });
    const blockHash = await api.rpc.chain.getBlockHash(at);
    const paid = (await (await api.at(blockHash)).query.system.events()).filter(
      ({ event }) => event.section === 'pogo' && event.method === 'VerifierPaid' && event.data.submission.toNumber() === id,
    );
    assert.equal(paid.length, 3, 'each positive verifier paid when the round is final');
    assert.equal(ev.submission.toNumber(), id);
    assert.equal(ev.task.toNumber(), task);
    assert.equal(ev.miner.toHex(), hex32(bob));
    const reward = ev.reward.toBigInt();
    assert.equal(reward, 10n * UNIT, 'the task reward');
    const after = await api.at(blockHash);
    assert.ok((await after.query.pogo.submissions(id)).isNone, 'submission removed');
    const stored = (await after.query.pogo.tasks(task)).unwrap();
    assert.equal(stored.stateRoot.toHex(), fx.finalRoot, 'the accepted root stays');
    const verifierPay = taskParams().verifierPay;
    assert.equal(stored.escrow.toBigInt(), escrowBefore - reward - 3n * verifierPay, 'reward and verifier pay from the escrow');
    const freeAfter = (await after.query.system.account(bob.address)).data.free.toBigInt();
    // Bob also gets the submission deposit back; nobody sent a transaction for this.
    assert.ok(freeAfter >= freeBefore + reward, `Bob's free balance grew by the reward (${freeBefore} -> ${freeAfter})`);
    const ledger = (await after.query.pogo.minerBonds(bob.address)).unwrap();
    assert.equal(ledger.atRisk.toBigInt(), 0n, 'no bond at risk once the round is final');
    assert.deepEqual((await api.call.pogoApi.pendingSubmissions(task)).map((v) => v.id.toNumber()), []);
    assert.equal((await api.call.pogoApi.task(task)).unwrap().pending.toNumber(), 0);
    assert.ok(at >= finalAt, `finalized at ${at}, not before ${finalAt}`);
    note(`RoundFinalized by on_idle in block ${at} (final at ${finalAt}): Bob paid ${reward / UNIT} UNIT, 3 verifiers paid, bond at risk 0, no pending rounds`);
  });
});

/** Task parameters as a plain object (camelCase field names of `TaskParams`). */
function taskParams(overrides = {}) {
  const window = s.window ?? 50;
  return {
    reward: 10n * UNIT,
    verifierPay: UNIT,
    minerBond: 50n * UNIT,
    verifiers: 3,
    escalationVerifiers: 4,
    samples: { steps: 2, leaves: 2, evalExamples: 8 },
    tolerance: { boundaryMarginPpm: 1_000, maxScaleErrorPpm: 50, noiseFloorPpm: 20 },
    minImprovementPpm: 0,
    commitWindow: window,
    revealWindow: window,
    verification: 'FullReplay',
    ...overrides,
  };
}

/** The task's dataset commitment (roots from the fixture, the locator as UTF-8). */
function dataset() {
  return { trainRoot: s.fx.trainRoot, evalRoot: s.fx.evalRoot, locator: LOCATOR };
}
