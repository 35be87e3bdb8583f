import {InputError} from '../../core/errors.ts';

/** A terminal input stream that can switch to raw mode (so typed characters are not echoed). */
export type TerminalInput = NodeJS.ReadableStream & {isTTY?: boolean; setRawMode?: (mode: boolean) => unknown};

/**
 * Asks for a secret on a terminal without echoing it: switches to raw mode, writes the question to stderr, reads
 * keystrokes until Enter, handles Backspace, and aborts on Ctrl-C / Ctrl-D.
 * Raw mode is always switched off again.
 */
export async function promptHidden(stdin: TerminalInput, stderr: NodeJS.WritableStream, question: string): Promise<string> {
  if (!stdin.isTTY || typeof stdin.setRawMode !== `function`)
    throw new Error(`Assertion failed: promptHidden needs a terminal`);
  // Echo off before the question invites typing: a keystroke that arrives between the two would be echoed by the
  // terminal, and creating the stdin stream that raw mode needs takes a few ms (adapters/local/stdio.ts).
  stdin.setRawMode(true);
  stderr.write(question);
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let answer = ``;
      const finish = (error: Error | null) => {
        stdin.removeListener(`data`, onData);
        stdin.removeListener(`end`, onEnd);
        stderr.write(`\n`);
        if (error)
          reject(error);
        else
          resolve(answer);
      };
      const onEnd = () => finish(new InputError(`no password given: the terminal closed before Enter was pressed`));
      const onData = (chunk: Buffer | string) => {
        for (const char of typeof chunk === `string` ? chunk : chunk.toString(`utf8`)) {
          switch (char) {
            case `\r`:
            case `\n`:
              finish(null);
              return;
            case `\u0003`: // Ctrl-C
              finish(new InputError(`interrupted: no password read`));
              return;
            case `\u0004`: // Ctrl-D
              if (answer === ``) {
                finish(new InputError(`no password given: input ended`));
                return;
              }
              finish(null);
              return;
            case `\u007f`: // Backspace (DEL)
            case `\b`:
              answer = [...answer].slice(0, -1).join(``);
              break;
            default:
              if (char >= ` `)
                answer += char;
          }
        }
      };
      stdin.on(`data`, onData);
      stdin.on(`end`, onEnd);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
  }
}
