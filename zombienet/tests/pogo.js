// pogo's zombienet tests: the steps `pogo.zndsl` runs with `js-script ./tests/pogo.js with "STEP"`.
//
// Each step is one function of `STEPS`, run inside the zombienet test runner (CommonJS; polkadot.js
// 16 and the helpers of tests/client are loaded from there, so the chain's own metadata is used and no
// custom types are declared). Steps share what they learned through `$POGO_ZN_RUN/state.json`; every
// worker they start is appended to `$POGO_ZN_RUN/pids`, which scripts/zombienet.sh kills at the end,
// also on failure or Ctrl-C. A step returns 1 when its checks passed and throws otherwise.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { spawn, execFileSync } = require('node:child_process');
const { createRequire } = require('node:module');

const ROOT = path.resolve(__dirname, '..', '..');
const clientRequire = createRequire(path.join(ROOT, 'tests', 'client', 'package.json'));
const { ApiPromise, WsProvider, Keyring } = clientRequire('@polkadot/api');
const { blake3 } = clientRequire('@noble/hashes/blake3');
const { u8aToHex, hexToU8a, u8aConcat, bnToU8a } = clientRequire('@polkadot/util');

const RUN = process.env.POGO_ZN_RUN;
const BIN = process.env.POGO_BIN_DIR;
const UNIT = 10n ** 12n;
/** Relay storage keys the runtime reads from the relay state proof (polkadot-primitives well_known_keys). */
const EPOCH_INDEX_KEY = '0x1cb6f36e027abb2091cfb5110ab5087f38316cbf8fa0da822a20ac1c55bf1be3';
const ONE_EPOCH_AGO_RANDOMNESS_KEY = '0x1cb6f36e027abb2091cfb5110ab5087f7ce678799d3eff024253b90e84927cc6';
/** pallet-pogo's `ChallengeEpochDelay` in the runtime. */
const CHALLENGE_EPOCH_DELAY = 2;

const log = (...a) => console.log('    [pogo]', ...a);
const lib = () => import(path.join(ROOT, 'tests', 'client', 'lib.js'));

function loadState() {
  const file = path.join(RUN, 'state.json');
  return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
}
function saveState(state) {
  fs.writeFileSync(path.join(RUN, 'state.json'), JSON.stringify(state, null, 2));
}

async function connect(wsUri) {
  const api = await ApiPromise.create({ provider: new WsProvider(wsUri), noInitWarn: true, throwOnConnect: true });
  await api.isReady;
  return api;
}

/** Runs `pogo-worker ARGS` to completion (bond, create-task) and returns its stdout. */
function workerOnce(args) {
  return execFileSync(path.join(BIN, 'pogo-worker'), ['--threads', '1', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 180_000,
  });
}

/** Starts `pogo-worker ARGS` in the background, logging to `$POGO_ZN_RUN/NAME.log`; records its PID. */
function startWorker(name, args) {
  const out = fs.openSync(path.join(RUN, `${name}.log`), 'a');
  const child = spawn(path.join(BIN, 'pogo-worker'), ['--threads', '1', ...args], {
    stdio: ['ignore', out, out],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'info' },
  });
  child.unref();
  fs.appendFileSync(path.join(RUN, 'pids'), `${child.pid} ${name}\n`);
  log(`started ${name} (pid ${child.pid}): pogo-worker ${args.join(' ')}`);
  return child.pid;
}

/** Waits until every process started as `name` (see startWorker) has exited. */
async function waitForExit(name, timeoutMs) {
  const pids = fs.readFileSync(path.join(RUN, 'pids'), 'utf8').split('\n')
    .map((l) => l.split(' ')).filter(([pid, n]) => pid && n === name).map(([pid]) => Number(pid));
  // Exited: no /proc entry, or a zombie not yet reaped by its parent.
  const alive = (pid) => {
    try { return !/^\d+ \(.*\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; }
  };
  const deadline = Date.now() + timeoutMs;
  while (pids.some(alive)) {
    if (Date.now() > deadline) throw new Error(`${name} (pid ${pids.filter(alive).join(', ')}) still running after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  return pids.length;
}

function wsOf(networkInfo, name) {
  const node = networkInfo.nodesByName[name];
  if (!node) throw new Error(`no node ${name} in the network`);
  return node.wsUri;
}

/** The ports the workers' data-availability servers listen on (fixed per role; the suite runs alone). */
const DA_PORTS = { bob: 9955, ferdie: 9956, charlie: 9957, dave: 9958, eve: 9959 };

function workerCommon(name, ws) {
  return ['--ws', ws, '--suri', `//${name[0].toUpperCase()}${name.slice(1)}`, '--store', path.join(RUN, `${name}-store`),
    '--listen', `127.0.0.1:${DA_PORTS[name]}`, '--poll-seconds', '2'];
}

/** `rounds` counts every round the miner's journal (its store) has submitted, earlier runs included. */
function startMiner(networkInfo, name, task, extra = [], rounds = 1) {
  return startWorker(`miner-${name}-task${task}`, ['mine', '--task', String(task), '--rounds', String(rounds), '--no-progress',
    ...workerCommon(name, wsOf(networkInfo, 'collator-1')), ...extra]);
}

/** BLAKE3-keyed hash of protocol purpose `purpose` (docs/protocol.md section 2: the key is derived, not typed in). */
function protocolHash(purpose, message) {
  const key = blake3(new Uint8Array(0), { context: `pogo v1 ${purpose}` });
  return blake3(message, { key });
}

/** Raw bytes of relay storage `key` at block `hash` (without a length prefix), or null. */
async function relayStorage(relay, key, hash) {
  const value = await relay.rpc.state.getStorage(key, hash);
  const data = value && typeof value.isSome === 'boolean' ? (value.isSome ? value.unwrap() : null) : value;
  return data && !data.isEmpty ? data.toU8a(true) : null;
}

/** The relay block hash of the first block of epoch `epoch` or later (binary search over best-chain numbers). */
async function relayBlockInEpoch(relay, epoch) {
  const epochAt = async (n) => {
    const hash = await relay.rpc.chain.getBlockHash(n);
    const raw = await relayStorage(relay, EPOCH_INDEX_KEY, hash);
    return { hash, number: n, epoch: raw ? relay.createType('u64', raw).toBigInt() : 0n };
  };
  let lo = 0;
  let hi = (await relay.rpc.chain.getHeader()).number.toNumber();
  if ((await epochAt(hi)).epoch < BigInt(epoch)) throw new Error(`relay chain has not reached epoch ${epoch}`);
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if ((await epochAt(mid)).epoch < BigInt(epoch)) lo = mid + 1;
    else hi = mid;
  }
  return epochAt(lo);
}

const STEPS = {
  /** Bonds a miner, a cheating miner and three verifiers, creates two digits tasks, starts the workers. */
  async start(networkInfo) {
    const ws1 = wsOf(networkInfo, 'collator-1');
    const ws2 = wsOf(networkInfo, 'collator-2');
    const api = await connect(ws1);
    try {
      const { waitForBlock } = await lib();
      const head = (await api.rpc.chain.getHeader()).number.toNumber();
      await waitForBlock(api, head + 1, 120_000);
      for (const [who, role] of [['Bob', 'miner'], ['Ferdie', 'miner'], ['Charlie', 'verifier'], ['Dave', 'verifier'], ['Eve', 'verifier']]) {
        log(workerOnce(['bond', '--role', role, '--amount', '100', '--ws', ws1, '--suri', `//${who}`]).trim());
      }
      const honestTask = Number(workerOnce(['create-task', '--task', 'digits', '--window', '10', '--ws', ws1, '--suri', '//Alice']).trim());
      const cheatTask = Number(workerOnce(['create-task', '--task', 'digits', '--window', '10', '--ws', ws1, '--suri', '//Alice']).trim());
      const task = (await api.query.pogo.tasks(honestTask)).unwrap();
      const startBlock = (await api.rpc.chain.getHeader()).number.toNumber();
      log(`tasks ${honestTask} (honest miner bob) and ${cheatTask} (ferdie, forged-final-root) at block ${startBlock}`);
      saveState({ honestTask, cheatTask, startBlock, initialRoot: task.stateRoot.toHex() });
      // Two verifiers follow collator-1, one (eve) collator-2, the collator the suite restarts mid-round.
      startWorker('verifier-charlie', ['verify', '--watch', ...workerCommon('charlie', ws1)]);
      startWorker('verifier-dave', ['verify', ...workerCommon('dave', ws1)]);
      startWorker('verifier-eve', ['verify', ...workerCommon('eve', ws2)]);
      startMiner(networkInfo, 'bob', honestTask);
      startMiner(networkInfo, 'ferdie', cheatTask, ['--adversary', 'forged-final-root']);
      return 1;
    } finally {
      await api.disconnect();
    }
  },

  /** Waits until the honest miner's round is on chain (the suite then restarts collator-2 mid-round). */
  async submitted(networkInfo) {
    const state = loadState();
    const api = await connect(wsOf(networkInfo, 'collator-1'));
    try {
      const { waitForEvent } = await lib();
      const { data, block } = await waitForEvent(api, {
        fromBlock: state.startBlock, section: 'pogo', method: 'RoundSubmitted',
        match: (d) => d.task.toNumber() === state.honestTask, timeoutMs: 900_000,
      });
      const submission = data.submission.toNumber();
      const stored = (await api.query.pogo.submissions(submission)).unwrap();
      state.honestSubmission = submission;
      state.honestRelayEpoch = stored.relayEpoch.toNumber();
      state.honestSubmittedAt = block;
      state.honestFinalRoot = stored.commitment.finalRoot.toHex();
      saveState(state);
      log(`submission ${submission} in block ${block}, relay epoch ${state.honestRelayEpoch}`);
      return 1;
    } finally {
      await api.disconnect();
    }
  },

  /**
   * The round's challenge is relay randomness: the pallet's `EpochRandomness[E_s + 2]` equals the relay
   * chain's own `ONE_EPOCH_AGO_RANDOMNESS` in epoch `E_s + 2`, and the challenge seed is
   * `H_challenge(randomness || submission id)`. Then every verifier commits and reveals, the round is
   * accepted and the task's state root becomes the round's final root.
   */
  async accepted(networkInfo) {
    const state = loadState();
    const api = await connect(wsOf(networkInfo, 'collator-1'));
    const relay = await connect(wsOf(networkInfo, 'alice'));
    try {
      const { waitForEvent, eventsAt, readAt } = await lib();
      const id = state.honestSubmission;
      log(`waiting for the challenge of submission ${id} (ChallengeFixed from block ${state.honestSubmittedAt})`);
      const fixed = await waitForEvent(api, {
        fromBlock: state.honestSubmittedAt, section: 'pogo', method: 'ChallengeFixed',
        match: (d) => d.submission.toNumber() === id && d.level.toNumber() === 0, timeoutMs: 900_000,
      });
      const target = state.honestRelayEpoch + CHALLENGE_EPOCH_DELAY;
      log(`challenge fixed in block ${fixed.block}; reading the relay chain's randomness of epoch ${target}`);
      const recorded = await readAt(api, (await api.rpc.chain.getBlockHash(fixed.block)).toHex(), 'pogo', 'epochRandomness', target);
      if (!recorded) throw new Error(`the pallet has no randomness recorded for relay epoch ${target}`);
      const relayBlock = await relayBlockInEpoch(relay, target);
      const randomnessBytes = await relayStorage(relay, ONE_EPOCH_AGO_RANDOMNESS_KEY, relayBlock.hash);
      if (!randomnessBytes || randomnessBytes.length !== 32) throw new Error(`relay block ${relayBlock.number} has no 32-byte randomness`);
      const relayRandomness = u8aToHex(randomnessBytes);
      if (recorded.toHex() !== relayRandomness) {
        throw new Error(`EpochRandomness[${target}] = ${recorded.toHex()}, relay storage says ${relayRandomness}`);
      }
      const expected = u8aToHex(protocolHash('challenge seed', u8aConcat(hexToU8a(relayRandomness), bnToU8a(BigInt(id), { bitLength: 64, isLe: true }))));
      if (fixed.data.challenge.toHex() !== expected) {
        throw new Error(`challenge ${fixed.data.challenge.toHex()} is not H_challenge(relay randomness || ${id}) = ${expected}`);
      }
      log(`challenge of submission ${id} = H(relay epoch ${target} randomness ${relayRandomness.slice(0, 18)}… || ${id}), `
        + `read at relay block ${relayBlock.number} (first of epoch ${target}); ${fixed.data.verifiers.toNumber()} verifiers drawn`);
      const accepted = await waitForEvent(api, {
        fromBlock: fixed.block, section: 'pogo', method: 'RoundAccepted',
        match: (d) => d.submission.toNumber() === id, timeoutMs: 900_000,
      });
      // Every drawn verifier committed and revealed (eve through the collator that was restarted).
      const revealed = new Set();
      for (let n = fixed.block; n <= accepted.block; n += 1) {
        for (const { event } of await eventsAt(api, n)) {
          if (event.section === 'pogo' && event.method === 'VerdictRevealed' && event.data.submission.toNumber() === id) {
            revealed.add(event.data.verifier.toString());
          }
        }
      }
      if (revealed.size !== fixed.data.verifiers.toNumber()) {
        throw new Error(`${revealed.size} of ${fixed.data.verifiers.toNumber()} verifiers revealed`);
      }
      const eve = new Keyring({ type: 'sr25519' }).addFromUri('//Eve').address;
      if (!revealed.has(eve)) throw new Error('eve (on the restarted collator) did not reveal');
      const root = (await api.query.pogo.tasks(state.honestTask)).unwrap().stateRoot.toHex();
      if (root === state.initialRoot || root !== state.honestFinalRoot) {
        throw new Error(`task state root ${root}: expected the round's final root ${state.honestFinalRoot}`);
      }
      state.honestAcceptedAt = accepted.block;
      saveState(state);
      log(`accepted in block ${accepted.block} after ${revealed.size} reveals; state root ${state.initialRoot.slice(0, 18)}… -> ${root.slice(0, 18)}…`);
      return 1;
    } finally {
      await api.disconnect();
      await relay.disconnect();
    }
  },

  /** After the fraud window the round is final and the miner is paid the task's reward. */
  async paid(networkInfo) {
    const state = loadState();
    const api = await connect(wsOf(networkInfo, 'collator-1'));
    try {
      const { waitForEvent, readAt } = await lib();
      const final = await waitForEvent(api, {
        fromBlock: state.honestSubmittedAt, section: 'pogo', method: 'RoundFinalized',
        match: (d) => d.submission.toNumber() === state.honestSubmission, timeoutMs: 600_000,
      });
      const bob = new Keyring({ type: 'sr25519' }).addFromUri('//Bob').address;
      if (final.data.miner.toString() !== bob) throw new Error(`finalized for ${final.data.miner}, not bob`);
      const reward = final.data.reward.toBigInt();
      const task = (await api.query.pogo.tasks(state.honestTask)).unwrap();
      if (reward !== task.params.reward.toBigInt() || reward === 0n) throw new Error(`reward ${reward}, task says ${task.params.reward}`);
      // Storage of past blocks through `readAt` (raw, decoded with that block's metadata), never `api.at`:
      // inside the zombienet runner `api.at` was seen never to resolve.
      const free = async (n) => (await readAt(api, (await api.rpc.chain.getBlockHash(n)).toHex(), 'system', 'account', bob)).data.free.toBigInt();
      const before = await free(final.block - 1);
      const after = await free(final.block);
      if (after - before < reward) throw new Error(`bob's free balance rose by ${after - before}, reward ${reward}`);
      log(`finalized in block ${final.block}: bob paid ${Number(reward) / Number(UNIT)} UNIT`);
      return 1;
    } finally {
      await api.disconnect();
    }
  },

  /** The cheating miner (a forged final root) is proven fraudulent and loses its bond. */
  async slashed(networkInfo) {
    const state = loadState();
    const api = await connect(wsOf(networkInfo, 'collator-1'));
    try {
      const { waitForEvent } = await lib();
      const ferdie = new Keyring({ type: 'sr25519' }).addFromUri('//Ferdie').address;
      const slash = await waitForEvent(api, {
        fromBlock: state.startBlock, section: 'pogo', method: 'Slashed',
        match: (d) => d.who.toString() === ferdie && d.role.toString() === 'Miner', timeoutMs: 1_200_000,
      });
      const amount = slash.data.amount.toBigInt();
      if (amount === 0n) throw new Error('ferdie slashed 0');
      const root = (await api.query.pogo.tasks(state.cheatTask)).unwrap();
      if (root.round.toNumber() !== 0) throw new Error(`the cheat's task moved to round ${root.round}`);
      log(`ferdie (forged-final-root) slashed ${Number(amount) / Number(UNIT)} UNIT in block ${slash.block}; task ${state.cheatTask} still at round 0`);
      return 1;
    } finally {
      await api.disconnect();
    }
  },

  /**
   * A runtime upgrade mid-task: the miner's next round is pending when sudo sets the code of the same
   * runtime with spec_version + 1. Tasks, bonds and the pending round come through unchanged, and the
   * round settles under the new runtime.
   */
  async upgrade(networkInfo) {
    const state = loadState();
    const wasmPath = process.env.POGO_UPGRADE_WASM;
    if (!wasmPath || !fs.existsSync(wasmPath)) throw new Error(`no upgrade wasm at ${wasmPath}`);
    const ws = wsOf(networkInfo, 'collator-1');
    const { waitForEvent, waitForBlock, send, readAt, entriesAt, bestNumber, blockHash, sleep } = await lib();
    let id;
    let applied;
    const specBefore = await (async () => {
      const api = await connect(ws);
      try {
        // The first run (`--rounds 1`) stops by itself once its round is final: then its store and its DA
        // port are free for the next run.
        const name = `miner-bob-task${state.honestTask}`;
        if (await waitForExit(name, 120_000) === 0) throw new Error(`no earlier ${name} recorded`);
        const from = await bestNumber(api);
        startMiner(networkInfo, 'bob', state.honestTask, [], 2);
        const submitted = await waitForEvent(api, {
          fromBlock: from, section: 'pogo', method: 'RoundSubmitted',
          match: (d) => d.task.toNumber() === state.honestTask, timeoutMs: 900_000,
        });
        id = submitted.data.submission.toNumber();
        const specBefore = api.runtimeVersion.specVersion.toNumber();
        const code = fs.readFileSync(wasmPath);
        const alice = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
        const result = await send(api, api.tx.sudo.sudoUncheckedWeight(api.tx.system.setCode(u8aToHex(code)), { refTime: 0, proofSize: 0 }), alice,
          { timeoutMs: 180_000, label: 'sudo(set_code)' });
        if (result.error) throw new Error(`sudo(set_code): ${result.error.text}`);
        const sudid = result.events.find((e) => e.section === 'sudo' && e.method === 'Sudid');
        if (!sudid || sudid.data[0].isErr) throw new Error(`sudo(set_code) failed: ${sudid ? sudid.data[0].toString() : 'no Sudid'}`);
        const stored = await waitForEvent(api, { fromBlock: submitted.block, section: 'parachainSystem', method: 'ValidationFunctionStored', timeoutMs: 120_000 });
        log(`submission ${id} pending; code of ${code.length} bytes stored in block ${stored.block}`);
        // From here on the connection's polkadot.js re-decorates itself when it sees the new runtime: the
        // waits read raw JSON-RPC only (tests/client/lib.js), and the checks below use a fresh connection.
        applied = await waitForEvent(api, { fromBlock: stored.block, section: 'parachainSystem', method: 'ValidationFunctionApplied', timeoutMs: 600_000 });
        await waitForBlock(api, applied.block + 1, 120_000);
        return specBefore;
      } finally {
        // A connection busy re-decorating may not answer its own close: it is given 5 s.
        await Promise.race([api.disconnect().catch(() => {}), sleep(5_000)]);
      }
    })();
    const api = await connect(ws);
    try {
      // The last block of the old runtime against the first of the new one.
      const firstNew = await blockHash(api, applied.block + 1);
      const lastOld = await blockHash(api, applied.block);
      const version = await api.rpc.state.getRuntimeVersion(firstNew);
      if (version.specVersion.toNumber() !== specBefore + 1) throw new Error(`spec_version ${version.specVersion} after the upgrade, was ${specBefore}`);
      // What an upgrade must not touch. Assignment moves stake between `held` and `at_risk` and the round's
      // phase moves on by itself, so those are left out; the rest is compared byte for byte. Read as raw
      // storage and decoded with each block's own metadata (`readAt`, `entriesAt`), not `api.at`.
      const snapshot = async (at) => {
        const s = await readAt(api, at, 'pogo', 'submissions', id);
        if (!s) throw new Error(`submission ${id} is not pending at the upgrade`);
        const bonds = {};
        for (const kind of ['minerBonds', 'verifierBonds']) {
          for (const [key, v] of await entriesAt(api, at, 'pogo', kind)) bonds[`${kind} ${key}`] = v.held.toString();
        }
        return {
          tasks: Object.fromEntries((await entriesAt(api, at, 'pogo', 'tasks')).map(([key, v]) => [key, v.toHex()])),
          bonds,
          submission: [s.task, s.miner, s.round, s.commitment, s.locator, s.bond, s.escrow, s.relayEpoch].map((c) => c.toHex()),
        };
      };
      const old = await snapshot(lastOld);
      const now = await snapshot(firstNew);
      for (const key of ['tasks', 'bonds', 'submission']) {
        if (JSON.stringify(old[key]) !== JSON.stringify(now[key])) {
          throw new Error(`${key} changed across the upgrade:\n${JSON.stringify(old[key])}\n${JSON.stringify(now[key])}`);
        }
      }
      log(`upgraded to spec_version ${version.specVersion} in block ${applied.block + 1}: `
        + `${Object.keys(now.tasks).length} tasks, ${Object.keys(now.bonds).length} bonds and submission ${id} unchanged`);
      const final = await waitForEvent(api, {
        fromBlock: applied.block, section: 'pogo', method: 'RoundFinalized',
        match: (d) => d.submission.toNumber() === id, timeoutMs: 1_200_000,
      });
      log(`submission ${id}, submitted before the upgrade, finalized under spec_version ${version.specVersion} in block ${final.block}`);
      return 1;
    } finally {
      await api.disconnect();
    }
  },
};

/** zombienet's entry point: `js-script ./tests/pogo.js with "STEP"`. */
async function run(_nodeName, networkInfo, args) {
  const step = args[0];
  if (!STEPS[step]) throw new Error(`unknown step ${step}; steps: ${Object.keys(STEPS).join(', ')}`);
  if (!RUN || !BIN) throw new Error('POGO_ZN_RUN and POGO_BIN_DIR are set by scripts/zombienet.sh');
  const t0 = Date.now();
  const value = await STEPS[step](networkInfo);
  log(`step ${step}: passed in ${Math.round((Date.now() - t0) / 1000)} s`);
  return value;
}

module.exports = { run };
