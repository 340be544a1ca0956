// Helpers of the pogo client tests: binaries, the node process, the fixture, transactions, errors.
//
// Everything here is plain polkadot.js with the chain's own metadata: no custom type definitions. The
// protocol bytes (training spec, round commitments, verdicts, fraud proofs) come from the Rust fixture
// `round_fixture` (pallets/pogo/primitives/examples) as 0x-hex SCALE, which polkadot.js decodes into
// the metadata's types when passed as a call argument.

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Smallest balance unit per POGO (12 decimals). */
export const UNIT = 10n ** 12n;

/** Paths of the two binaries, from the environment or the pogo build defaults (scripts/env.sh). */
export function binaries(env = process.env) {
  const target = env.CARGO_TARGET_DIR || path.join(env.HOME || os.homedir(), '.cache', 'pogo', 'target');
  const profile = env.POGO_PROFILE || 'testnet';
  return {
    node: env.POGO_NODE || path.join(target, profile, 'pogo-node'),
    fixture: env.POGO_FIXTURE || path.join(target, profile, 'examples', 'round_fixture'),
  };
}

/** A TCP port that was free a moment ago (listen on port 0, read it, close). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/** Runs the fixture and parses its JSON. */
export function fixture(bin, ...args) {
  const out = execFileSync(bin, args.map(String), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(out);
}

/** The fixture's verdict commitment and SCALE verdict for `account` (0x-hex of the 32-byte id). */
export function verdictFixture(bin, submission, accountHex, verdict, salt) {
  return fixture(bin, 'verdict', submission, accountHex, verdict, salt);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The last `lines` lines of a file ('' if unreadable). */
export function tail(file, lines = 40) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * Starts `pogo-node --dev` on free ports with its output in `logFile`. Returns a handle whose `stop()`
 * kills the node by its PID (SIGTERM, then SIGKILL after `graceMs`). The node is also killed when this
 * process exits or gets SIGINT/SIGTERM, whatever the tests did.
 */
export async function startNode({ bin, logFile, blockTimeMs = 1000, extraArgs = [] }) {
  if (!fs.existsSync(bin)) throw new Error(`pogo-node not found at ${bin} (set POGO_NODE)`);
  const rpcPort = await freePort();
  let p2pPort = await freePort();
  while (p2pPort === rpcPort) p2pPort = await freePort();
  const args = [
    '--dev',
    '--dev-block-time', String(blockTimeMs),
    '--tmp',
    '--rpc-port', String(rpcPort),
    '--port', String(p2pPort),
    '--no-prometheus',
    '--no-telemetry',
    '--no-mdns',
    '--no-hardware-benchmarks',
    ...extraArgs,
  ];
  const log = fs.openSync(logFile, 'w');
  fs.writeSync(log, `$ ${bin} ${args.join(' ')}\n`);
  const child = spawn(bin, args, { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let exitInfo = null;
  exited.then((info) => {
    exitInfo = info;
  });

  const killNow = () => {
    if (exitInfo === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  const onSignal = (signal) => {
    killNow();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('exit', killNow);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const handle = {
    pid: child.pid,
    rpcPort,
    wsUrl: `ws://127.0.0.1:${rpcPort}`,
    httpUrl: `http://127.0.0.1:${rpcPort}`,
    logFile,
    args,
    /** `{code, signal}` once the node exited, else null. */
    exitInfo: () => exitInfo,
    async stop(graceMs = 10_000) {
      process.off('exit', killNow);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (exitInfo !== null || child.pid === undefined) return exitInfo;
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch {
        return exitInfo;
      }
      let timer;
      const grace = new Promise((resolve) => {
        timer = setTimeout(() => resolve(null), graceMs);
      });
      const stopped = await Promise.race([exited, grace]);
      clearTimeout(timer);
      if (stopped === null) {
        killNow();
        await exited;
      }
      return exitInfo;
    },
  };
  if (child.pid === undefined) {
    await exited;
    throw new Error(`pogo-node did not start: ${JSON.stringify(exitInfo)}\n${tail(logFile)}`);
  }
  return handle;
}

/** One JSON-RPC call over HTTP (the node serves HTTP and WebSocket on the RPC port). */
export async function rpc(httpUrl, method, params = []) {
  const res = await fetch(httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    signal: AbortSignal.timeout(5_000),
  });
  const body = await res.json();
  if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result;
}

/**
 * Waits until the node answers RPC and has produced block `minBlock` (bounded: `timeoutMs`). Fails early,
 * with the log's tail, if the node exits.
 */
export async function waitForNode(node, { timeoutMs = 180_000, minBlock = 1, pollMs = 500 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (node.exitInfo() !== null) {
      throw new Error(`pogo-node exited (${JSON.stringify(node.exitInfo())}); log ${node.logFile}:\n${tail(node.logFile)}`);
    }
    try {
      const header = await rpc(node.httpUrl, 'chain_getHeader');
      const number = Number.parseInt(header.number, 16);
      if (number >= minBlock) return number;
      last = `at block ${number}`;
    } catch (e) {
      last = e.message;
    }
    await sleep(pollMs);
  }
  throw new Error(`pogo-node not ready after ${timeoutMs} ms (${last}); log ${node.logFile}:\n${tail(node.logFile)}`);
}

/** `{section, name, docs}` of a dispatch error (module errors decoded with the metadata). */
export function decodeError(api, dispatchError) {
  if (dispatchError.isModule) {
    const { section, name, docs } = api.registry.findMetaError(dispatchError.asModule);
    return { section, name, docs: docs.join(' '), text: `${section}.${name}` };
  }
  const text = dispatchError.toString();
  return { section: 'dispatch', name: dispatchError.type, docs: '', text };
}

/** Pallet events of a result as `{section, method, data}`, `data` with named (camelCase) fields. */
export function eventsOf(result) {
  return result.events.map(({ event }) => ({ section: event.section, method: event.method, data: event.data, event }));
}

/**
 * Signs `tx` with `signer`, sends it and waits until it is in a block (or finalized). Resolves to
 * `{blockHash, events, error}`: `error` is the decoded dispatch error (`null` on success), `events` the
 * extrinsic's events. Rejects if the transaction is invalid, dropped, or not in a block within `timeoutMs`.
 */
export function send(api, tx, signer, { timeoutMs = 60_000, label = `${tx.method.section}.${tx.method.method}` } = {}) {
  return new Promise((resolve, reject) => {
    let unsub = null;
    let settled = false;
    const finish = (err, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (unsub) unsub();
      if (err) reject(err);
      else resolve(value);
    };
    const timer = setTimeout(() => finish(new Error(`${label}: not in a block after ${timeoutMs} ms`)), timeoutMs);
    tx.signAndSend(signer, { nonce: -1 }, (result) => {
      const { status, dispatchError } = result;
      if (status.isInvalid || status.isDropped || status.isUsurped) {
        finish(new Error(`${label}: transaction ${status.type}`));
      } else if (status.isInBlock || status.isFinalized) {
        // A dev chain (`--dev`) finalizes each block as it makes it, and its transaction watcher may
        // report `Finalized` without an `InBlock` before it.
        finish(null, {
          blockHash: (status.isInBlock ? status.asInBlock : status.asFinalized).toHex(),
          events: eventsOf(result),
          error: dispatchError ? decodeError(api, dispatchError) : null,
        });
      }
    })
      .then((u) => {
        unsub = u;
        if (settled) u();
      })
      .catch((e) => finish(new Error(`${label}: ${e.message}`)));
  });
}

/** The events of `section.method` in a send result. */
export function findEvents(result, section, method) {
  return result.events.filter((e) => e.section === section && e.method === method);
}

/** Waits until the best block number is at least `target` (bounded). Returns the number reached. */
export async function waitForBlock(api, target, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const number = await retrying(() => bestNumber(api), deadline, `block ${target}`);
    if (number >= target) return number;
    if (Date.now() > deadline) throw new Error(`block ${target} not reached within ${timeoutMs} ms (at ${number})`);
    await sleep(250);
  }
}

/** How long one raw JSON-RPC call may take before it counts as lost (see `rawRpc`). */
const RPC_CALL_MS = 30_000;

/** A raw JSON-RPC call that got no answer in time (the waits ask again until their own deadline). */
export class RpcTimeout extends Error {}

/**
 * A JSON-RPC call through `api`'s connection, answered as plain JSON (no polkadot.js decoding), that
 * rejects with `RpcTimeout` after `RPC_CALL_MS` instead of waiting for ever. The waits below use these
 * raw calls alone: while polkadot.js re-decorates itself after a runtime upgrade (`API/INIT: Runtime
 * version updated`), a wait built on its decorated `api.rpc` and `api.query` was seen never ending
 * inside the zombienet runner although the chain went on.
 */
function rawRpc(api, method, params) {
  // polkadot.js keeps the provider on its RPC core; ApiPromise has no public getter for it.
  const call = api._rpcCore.provider.send(method, params);
  let timer;
  const lost = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new RpcTimeout(`${method} did not answer within ${RPC_CALL_MS} ms`)), RPC_CALL_MS);
  });
  return Promise.race([call, lost]).finally(() => clearTimeout(timer));
}

/** Runs `attempt` again after an `RpcTimeout`, until `deadline`; other errors are thrown at once. */
async function retrying(attempt, deadline, what) {
  for (;;) {
    try {
      return await attempt();
    } catch (e) {
      if (!(e instanceof RpcTimeout) || Date.now() > deadline) throw e;
      console.error(`[rpc] ${what}: ${e.message}; asking again`);
    }
  }
}

/** The best block's number, read raw. */
export async function bestNumber(api) {
  return Number.parseInt((await rawRpc(api, 'chain_getHeader', [])).number, 16);
}

/** The hash (0x-hex) of block `number` on the best chain, read raw; rejects if there is none yet. */
export async function blockHash(api, number) {
  const hash = await rawRpc(api, 'chain_getBlockHash', [number]);
  if (!hash) throw new Error(`no block ${number}`);
  return hash;
}

/** `System.Events`: twox128("System") ++ twox128("Events"), the same in every runtime. */
const SYSTEM_EVENTS_KEY = '0x26aa394eea5630e07c48ae0c9558cef780d41e5e16056765bc8461851072c9d7';

/**
 * polkadot.js types for the runtime in the state of block `hash`, built here from that block's metadata
 * (one registry per spec_version, cached on `api`): `{ registry, metadata }`. polkadot.js's own
 * `api.at(hash)` picks and caches a registry by itself and was seen decoding the blocks around a runtime
 * upgrade with the wrong one; reads through these helpers fetch raw bytes and decode them with the
 * registry chosen here. The classes are `api`'s own (this module imports no polkadot.js package, so the
 * zombienet runner, which loads polkadot.js as CommonJS, never loads a second copy as ES modules).
 */
export async function typesAt(api, hash) {
  const version = await rawRpc(api, 'state_getRuntimeVersion', [hash]);
  const spec = `${version.specName}/${version.specVersion}`;
  const cache = (api._pogoTypes ??= new Map());
  if (!cache.has(spec)) {
    const Registry = api.registry.constructor;
    const Metadata = api.runtimeMetadata.constructor;
    const registry = new Registry();
    const metadata = new Metadata(registry, await rawRpc(api, 'state_getMetadata', [hash]));
    registry.setMetadata(metadata);
    // Addresses print as `api`'s do (the chain's SS58 prefix).
    const properties = api.registry.getChainProperties();
    if (properties) registry.setChainProperties(properties);
    cache.set(spec, { registry, metadata });
  }
  return cache.get(spec);
}

/** The decoded-value type of storage item `pallet.item` (camelCase, as in `api.query`) in `metadata`. */
function valueType({ registry, metadata }, pallet, item) {
  const same = (name, wanted) => name.toString().toLowerCase() === wanted.toLowerCase();
  const found = metadata.asLatest.pallets.find((p) => same(p.name, pallet));
  const entry = found?.storage.isSome ? found.storage.unwrap().items.find((i) => same(i.name, item)) : undefined;
  if (!entry) throw new Error(`no storage item ${pallet}.${item} in the metadata`);
  return registry.createLookupType(entry.type.isPlain ? entry.type.asPlain : entry.type.asMap.value);
}

/**
 * Storage item `pallet.item` (camelCase, as in `api.query`) at block `hash`, with `keys` for a map:
 * the decoded value, or `null` when nothing is stored there. The storage key is `api`'s (pallet and
 * item names and hashers do not change across pogo's upgrades); the value is decoded with that block's
 * metadata.
 */
export async function readAt(api, hash, pallet, item, ...keys) {
  const types = await typesAt(api, hash);
  const raw = await rawRpc(api, 'state_getStorage', [api.query[pallet][item].key(...keys), hash]);
  return raw ? types.registry.createType(valueType(types, pallet, item), raw) : null;
}

/** Every entry of map `pallet.item` at block `hash`: `[hex storage key, decoded value]`, in key order. */
export async function entriesAt(api, hash, pallet, item) {
  const types = await typesAt(api, hash);
  const type = valueType(types, pallet, item);
  const prefix = api.query[pallet][item].keyPrefix();
  const out = [];
  for (let after = null; ;) {
    const keys = await rawRpc(api, 'state_getKeysPaged', [prefix, 256, after, hash]);
    if (keys.length === 0) return out;
    const values = await rawRpc(api, 'state_queryStorageAt', [keys, hash]);
    const byKey = new Map(values[0].changes);
    for (const key of keys) out.push([key, types.registry.createType(type, byKey.get(key))]);
    after = keys[keys.length - 1];
  }
}

/**
 * The events of block `number`, decoded with the metadata of the runtime that executed the block: the
 * code in its parent's state. Right after a runtime upgrade that is not the runtime of the block's own
 * state (a parachain stores the new code during the block that enacts it).
 */
export async function eventsAt(api, number) {
  return (await eventsWithHash(api, number)).records;
}

/** `eventsAt`, with the hash of the block they were read from (which block had `number` at the time). */
async function eventsWithHash(api, number) {
  const hash = await blockHash(api, number);
  const executedBy = number === 0 ? hash : (await rawRpc(api, 'chain_getHeader', [hash])).parentHash;
  const types = await typesAt(api, executedBy);
  const raw = await rawRpc(api, 'state_getStorage', [SYSTEM_EVENTS_KEY, hash]);
  // Nothing stored (the genesis block) decodes as an empty list.
  return { hash, records: types.registry.createType(valueType(types, 'system', 'events'), raw ?? undefined) };
}

/** The finalized head's number, read raw. */
export async function finalizedNumber(api) {
  const hash = await rawRpc(api, 'chain_getFinalizedHead', []);
  return Number.parseInt((await rawRpc(api, 'chain_getHeader', [hash])).number, 16);
}

/** The best chain's hash at `number`, or `null` where the best chain is shorter now. */
async function hashOrNull(api, number) {
  const hash = await rawRpc(api, 'chain_getBlockHash', [number]);
  return hash || null;
}

/**
 * Waits for the first `section.method` event, in blocks from `fromBlock` on, for which `match(data)` holds
 * (bounded). Returns `{ data, block }`. For what the chain does by itself (pallet-pogo's `on_idle`).
 *
 * Blocks are read up to the best block, which a parachain may still reorganize: a height read before it
 * was finalized is checked again on every poll, and read again from the first height whose best-chain
 * hash changed, so that an event in the block that replaced a read one is not missed.
 */
export async function waitForEvent(api, { fromBlock, section, method, match = () => true, timeoutMs = 120_000 }) {
  const deadline = Date.now() + timeoutMs;
  const what = `${section}.${method}`;
  // POGO_TRACE_EVENTS=1 prints every scanned block's events (stderr), for a wait that does not end.
  const trace = process.env.POGO_TRACE_EVENTS === '1';
  let next = fromBlock;
  // Heights read and not yet finalized, with the hash each had when read.
  const unfinalized = new Map();
  for (let poll = 0; ; poll += 1) {
    // A call without an answer is asked again (`retrying`): a lost reply costs `RPC_CALL_MS`, not the wait.
    const best = await retrying(() => bestNumber(api), deadline, what);
    if (unfinalized.size > 0) {
      const finalized = await retrying(() => finalizedNumber(api), deadline, what);
      for (const height of [...unfinalized.keys()].sort((a, b) => a - b)) {
        if (height <= finalized) {
          unfinalized.delete(height);
          continue;
        }
        const now = await retrying(() => hashOrNull(api, height), deadline, `${what}: hash of block ${height}`);
        if (now === unfinalized.get(height)) continue;
        console.error(`[events] ${what}: block ${height} was replaced (reorganization); reading from it again`);
        for (const later of unfinalized.keys()) if (later >= height) unfinalized.delete(later);
        next = Math.min(next, height);
        break;
      }
    }
    if (trace && poll % 20 === 0) console.error(`[events] ${what}: poll ${poll}, best ${best}, next ${next}`);
    for (; next <= best; next += 1) {
      const { hash, records } = await retrying(() => eventsWithHash(api, next), deadline, `${what} in block ${next}`);
      unfinalized.set(next, hash);
      if (trace) console.error(`[events] ${what}: block ${next} of ${best}: ${records.map(({ event }) => `${event.section}.${event.method}`).join(' ')}`);
      for (const { event } of records) {
        if (event.section === section && event.method === method && match(event.data)) {
          return { data: event.data, block: next };
        }
      }
    }
    if (Date.now() > deadline) throw new Error(`no ${what} in blocks ${fromBlock}..${best} within ${timeoutMs} ms`);
    await sleep(250);
  }
}

/** Hex of every codec in an object (for before/after comparisons of storage). */
export function hexOf(codecs) {
  return Object.fromEntries(Object.entries(codecs).map(([k, v]) => [k, v.toHex()]));
}
