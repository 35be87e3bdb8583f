// The one place that quotes printed commands: what a POSIX shell makes of the line is the argv it was built from.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {helpExample, pullsecret, quoteArg, renderCommand, shellLine} from '../../sources/core/shell.ts';

const TRICKY = [`plain`, `with space`, `it's`, `{"spec":{"a":[1]}}`, `$HOME`, `a;b`, `*`, `'kube-*'`, ``, `--attach=default`, `back\\slash`, `new\nline`];

test(`every argument, however tricky, reaches the program exactly as it was given`, () => {
  const line = shellLine({argv: [`printf`, `%s\\0`, ...TRICKY]});
  const out = execFileSync(`sh`, [`-c`, line], {encoding: `utf8`});
  assert.deepEqual(out.split(`\0`).slice(0, -1), TRICKY);
});

test(`safe words stay unquoted; a variable is expanded by the shell; a home path keeps its tilde`, () => {
  assert.equal(quoteArg(`--docker-server=ghcr.io`), `--docker-server=ghcr.io`);
  assert.equal(quoteArg({variable: `REGISTRY_USERNAME`}), `"$REGISTRY_USERNAME"`);
  assert.equal(quoteArg({prefix: `app=`, variable: `IMAGE`}), `app="$IMAGE"`);
  assert.equal(quoteArg({home: `.docker/config.json`}), `~/.docker/config.json`);
  const out = execFileSync(`sh`, [`-c`, `printf %s ${quoteArg({prefix: `app=`, variable: `IMAGE`})}`], {encoding: `utf8`, env: {PATH: process.env.PATH, IMAGE: `r.example/a b:1`}});
  assert.equal(out, `app=r.example/a b:1`);
});

test(`a printed command says what it needs in a comment the shell ignores`, () => {
  const line = renderCommand(pullsecret(`add`, `regcred`, `--docker-username`, {variable: `REGISTRY_USERNAME`}, `--docker-password-stdin`), `why`);
  assert.equal(line, `kubectl pullsecret add regcred --docker-username "$REGISTRY_USERNAME" --docker-password-stdin  # set REGISTRY_USERNAME first; reads the password from stdin; why`);
});

test(`a help example is the program placeholder, the quoted argv, and the shell text around it`, () => {
  assert.deepEqual(helpExample(`d`, [`sync`, `regcred`, `--exclude-namespaces`, `kube-*`], {after: ` | cat`}), [`d`, `$0 sync regcred --exclude-namespaces 'kube-*' | cat`]);
});
