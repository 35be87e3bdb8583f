import {Option} from 'clipanion';
import type {Usage} from 'clipanion';
import {helpExample} from '../core/shell.ts';
import {COMMIT, VERSION} from '../version.ts';
import {BaseCommand} from './BaseCommand.ts';
import {parseOutput} from './options.ts';

/** `kubectl pullsecret version`: the plugin's version, commit and Node runtime. */
export class VersionCommand extends BaseCommand {
  static override paths = [[`version`], [`--version`]];
  static override usage: Usage = {
    description: `print the plugin's version, git commit and Node.js version`,
    examples: [
      helpExample(`Print the version`, [`version`]),
      helpExample(`Print the version as JSON`, [`version`, `-o`, `json`]),
    ],
  };

  output = Option.String(`-o,--output`, {description: `output format: json or yaml`});

  async executeCommand() {
    const info = {version: VERSION, gitCommit: COMMIT, nodeVersion: this.context.nodeVersion};
    switch (parseOutput(this.output, [`json`, `yaml`] as const)) {
      case undefined:
        this.context.stdout.write(`kubectl-pullsecret ${info.version} (commit ${info.gitCommit}, node ${info.nodeVersion})\n`);
        break;
      case `json`:
        this.context.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
        break;
      case `yaml`:
        this.context.stdout.write(`version: ${info.version}\ngitCommit: ${info.gitCommit}\nnodeVersion: ${info.nodeVersion}\n`);
        break;
    }
  }
}
