import {test} from 'node:test';
import assert from 'node:assert/strict';
import {COMMANDS} from '../../sources/commands/all.ts';
import {COMMAND_TABLE} from '../../sources/commands/table.ts';
import {commandsNamedBy, overview, renderOverview} from '../../sources/cli.ts';

test(`the command table names every command, in COMMANDS order, with the first words of its own paths and what it invokes`, async () => {
  const loaded = await Promise.all(COMMAND_TABLE.map(entry => entry.load()));
  assert.deepEqual(loaded, COMMANDS);
  COMMAND_TABLE.forEach((entry, index) => {
    const command = COMMANDS[index]! as typeof COMMANDS[number] & {invokes?: string[][]};
    assert.deepEqual(entry.words, (command.paths ?? []).map(path => path[0]), command.name);
    assert.deepEqual(entry.invokes ?? [], (command.invokes ?? []).map(path => path[0]), command.name);
  });
});

test(`a command line loads only the command it names (and what that command invokes)`, () => {
  const words = (argv: string[]) => commandsNamedBy(argv)?.map(entry => entry.words[0]) ?? null;
  assert.deepEqual(words([`add`, `x`, `--dry-run=client`]), [`add`]);
  assert.deepEqual(words([`-n`, `ci`, `list`]), [`list`]);
  assert.deepEqual(words([`rotate`, `x`, `--verify`]), [`rotate`, `verify`]);
  assert.deepEqual(words([`--version`]), [`version`]);
  assert.equal(words([`__complete`, `add`]), null);
  assert.equal(words([`lsit`]), null);
});

test(`the overview from the sources is the one the build renders from the commands' declarations`, async () => {
  assert.equal(await overview(), renderOverview(COMMANDS));
  assert.match(await overview(), /^ {2}add {3,}create or update a kubernetes\.io\/dockerconfigjson pull secret$/m);
});
