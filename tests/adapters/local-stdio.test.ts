// main.ts's stdio (sources/adapters/local/stdio.ts): synchronous writes and reads on the descriptors, Node's streams
// only when a condition needs them, and terminals told apart from pipes, files and /dev/null.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {PassThrough, Readable} from 'node:stream';
import {fdReader, fdWriter, isTerminal} from '../../sources/adapters/local/stdio.ts';
import type {TerminalProbe} from '../../sources/adapters/local/stdio.ts';
import {INPUT_CAPS, readAll} from '../../sources/adapters/local/files.ts';
import {withRedaction} from '../../sources/cli.ts';
import {revealed} from '../../sources/adapters/output/redactingStream.ts';
import type {PullSecretContext} from '../../sources/context.ts';
import {nonBlockingFifo, readNonBlocking, readerlessFifo} from '../helpers/fifo.ts';

function tempDir(t: {after: (fn: () => void) => void}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `pullsecret-stdio-`));
  t.after(() => fs.rmSync(dir, {recursive: true, force: true}));
  return dir;
}

/** A stand-in for Node's stream, recording what it was given; `created` counts how often the writer asked for it. */
function recordingStream(): {stream: () => NodeJS.WriteStream; created: () => number; text: () => string} {
  const chunks: Buffer[] = [];
  let created = 0;
  const sink = new PassThrough();
  sink.on(`data`, (chunk: Buffer) => chunks.push(chunk));
  return {
    stream: () => {
      created++;
      return sink as unknown as NodeJS.WriteStream;
    },
    created: () => created,
    text: () => Buffer.concat(chunks).toString(`utf8`),
  };
}

test(`writes go straight to the descriptor, in order, strings in their encoding and bytes as they are, without creating the stream`, async t => {
  const file = path.join(tempDir(t), `out`);
  const fd = fs.openSync(file, `w`);
  t.after(() => fs.closeSync(fd));
  const real = recordingStream();
  const writer = fdWriter(fd, {stream: real.stream});
  let called = false;
  assert.equal(writer.write(`héllo `), true);
  writer.write(Buffer.from(`wörld`).toString(`base64`), `base64`);
  writer.write(new TextEncoder().encode(`!\n`), () => {
    called = true;
  });
  await new Promise(resolve => setImmediate(resolve));
  assert.equal(fs.readFileSync(file, `utf8`), `héllo wörld!\n`);
  assert.equal(called, true, `the write's callback ran`);
  assert.deepEqual([real.created(), writer.started], [0, undefined]);
});

test(`a full non-blocking pipe (EAGAIN) hands the rest of that write, and every later one, to the stream, keeping the order`, async t => {
  const {reader, writer: fd} = nonBlockingFifo(tempDir(t));
  t.after(() => {
    fs.closeSync(reader);
    fs.closeSync(fd);
  });
  const real = recordingStream();
  const writer = fdWriter(fd, {stream: real.stream});
  const big = Array.from({length: 20_000}, (_, index) => `line ${index}\n`).join(``);
  writer.write(big);
  writer.write(`after\n`);
  assert.equal(real.created(), 1, `the stream was created once`);
  assert.equal(writer.started !== undefined, true);
  const inPipe = await readNonBlocking(reader);
  assert.ok(inPipe.length > 0 && inPipe.length < big.length, `the pipe took part of it (${inPipe.length} of ${big.length} bytes)`);
  // Once the pipe has room again, writes still go to the stream, after what it holds.
  writer.write(`last\n`);
  assert.equal(await readNonBlocking(reader), ``);
  assert.equal(inPipe + real.text(), `${big}after\nlast\n`);
});

test(`a pipe whose reader is gone (EPIPE) calls onClosed and creates no stream; without onClosed the stream reports it`, t => {
  const fd = readerlessFifo(tempDir(t));
  t.after(() => fs.closeSync(fd));
  const real = recordingStream();
  let closed = 0;
  const writer = fdWriter(fd, {stream: real.stream, onClosed: () => closed++});
  assert.equal(writer.write(`lost\n`), false);
  assert.deepEqual([closed, real.created()], [1, 0]);
  const reporting = fdWriter(fd, {stream: real.stream});
  reporting.write(`for the stream\n`);
  assert.deepEqual([real.created(), real.text()], [1, `for the stream\n`]);
});

test(`anything else asked of a writer (on, writableLength) is the stream's, created then`, () => {
  const real = recordingStream();
  const writer = fdWriter(1, {stream: real.stream});
  assert.equal(real.created(), 0);
  assert.equal(writer.writableLength, 0);
  assert.equal(typeof writer.on, `function`);
  assert.equal(real.created(), 1);
});

test(`stdout and stderr writers under withRedaction redact every write; revealed() is the writer itself`, async t => {
  const dir = tempDir(t);
  const [outFile, errFile] = [path.join(dir, `out`), path.join(dir, `err`)];
  const [out, err] = [fs.openSync(outFile, `w`), fs.openSync(errFile, `w`)];
  t.after(() => {
    fs.closeSync(out);
    fs.closeSync(err);
  });
  const stdout = fdWriter(out, {stream: recordingStream().stream});
  const stderr = fdWriter(err, {stream: recordingStream().stream});
  const context = withRedaction({env: {}, stdout, stderr, stdin: Readable.from([]), colorDepth: 1} as unknown as PullSecretContext);
  const password = `s3cr3t-stdio-password`;
  context.redactor!.add(password);
  context.stdout.write(`password=${password}\n`);
  context.stdout.write(Buffer.from(`bytes ${password}\n`));
  context.stderr.write(`error: ${password}\n`, () => {});
  revealed(context.stdout).write(`asked for: ${password}\n`);
  assert.equal(fs.readFileSync(outFile, `utf8`), `password=[redacted]\nbytes [redacted]\nasked for: ${password}\n`);
  assert.equal(fs.readFileSync(errFile, `utf8`), `error: [redacted]\n`);
  assert.equal(context.stdout.isTTY, false, `isTTY reaches the writer through the redacting view`);
});

test(`the password on stdin is read synchronously from the descriptor under the secret cap; once the stream exists, through it`, async t => {
  const dir = tempDir(t);
  const file = path.join(dir, `in`);
  fs.writeFileSync(file, `p4ss\n`);
  const fd = fs.openSync(file, `r`);
  t.after(() => fs.closeSync(fd));
  let created = 0;
  const stdin = fdReader(fd, {stream: () => {
    created++;
    return Object.assign(Readable.from([Buffer.from(`from the stream`)]), {fd}) as unknown as NodeJS.ReadStream;
  }});
  assert.equal(await readAll(stdin, `the password on stdin`), `p4ss\n`);
  assert.equal(created, 0, `no stream was created`);
  assert.equal(stdin.isTTY, false);
  fs.writeFileSync(file, Buffer.alloc(INPUT_CAPS.secret + 1, `a`));
  const over = fs.openSync(file, `r`);
  t.after(() => fs.closeSync(over));
  await assert.rejects(readAll(fdReader(over, {stream: () => assert.fail(`no stream`)}), `the password on stdin`), /^InputError: the password on stdin is larger than 1 MiB/);
  // A command that used the stream (a prompt, a streaming reader) owns the input from then on.
  stdin.on(`error`, () => {});
  assert.equal(created, 1);
  assert.equal(await readAll(stdin, `the password on stdin`), `from the stream`);
});

/** A probe answering from made-up stats, recording whether node:tty was asked. */
function fakeProbe(stat: {char: boolean; rdev: number}, devNull: number | undefined): TerminalProbe & {asked: number[]} {
  const asked: number[] = [];
  return {
    asked,
    fstat: () => ({isCharacterDevice: () => stat.char, rdev: stat.rdev}),
    devNullRdev: () => devNull,
    isatty: fd => {
      asked.push(fd);
      return true;
    },
  };
}

test(`isTerminal: no character device, or /dev/null, is no terminal without asking node:tty; another character device, or Windows, asks it`, () => {
  const pipe = fakeProbe({char: false, rdev: 0}, 259);
  assert.deepEqual([isTerminal(1, pipe), pipe.asked], [false, []]);
  const devNull = fakeProbe({char: true, rdev: 259}, 259);
  assert.deepEqual([isTerminal(1, devNull), devNull.asked], [false, []]);
  const pty = fakeProbe({char: true, rdev: 34816}, 259);
  assert.deepEqual([isTerminal(2, pty), pty.asked], [true, [2]]);
  const windows = fakeProbe({char: false, rdev: 0}, undefined);
  assert.deepEqual([isTerminal(0, windows), windows.asked], [true, [0]]);
});

test(`isTerminal on real descriptors: a file, a pipe and /dev/null are not terminals; /dev/zero is asked of node:tty, which says no`, t => {
  const dir = tempDir(t);
  const asked: string[] = [];
  const real = (name: string): TerminalProbe => ({
    fstat: fd => fs.fstatSync(fd),
    devNullRdev: () => fs.statSync(`/dev/null`).rdev,
    isatty: fd => {
      asked.push(name);
      return process.getBuiltinModule(`node:tty`).isatty(fd);
    },
  });
  const {reader, writer} = nonBlockingFifo(dir);
  fs.writeFileSync(path.join(dir, `file`), ``);
  const opened = {file: fs.openSync(path.join(dir, `file`), `r`), pipe: writer, null: fs.openSync(`/dev/null`, `w`), zero: fs.openSync(`/dev/zero`, `r`)};
  t.after(() => [reader, ...Object.values(opened)].forEach(fd => fs.closeSync(fd)));
  for (const [name, fd] of Object.entries(opened))
    assert.equal(isTerminal(fd, real(name)), false, name);
  assert.deepEqual(asked, [`zero`]);
});

test(`a writer that is not direct (Windows consoles) hands every write to the stream, in order`, async t => {
  const file = path.join(tempDir(t), `out`);
  const fd = fs.openSync(file, `w`);
  t.after(() => fs.closeSync(fd));
  const real = recordingStream();
  const writer = fdWriter(fd, {stream: real.stream, direct: false});
  writer.write(`one `);
  writer.write(Buffer.from(`two`));
  await new Promise(resolve => setImmediate(resolve));
  assert.deepEqual([real.created(), real.text(), fs.readFileSync(file, `utf8`)], [1, `one two`, ``]);
});
