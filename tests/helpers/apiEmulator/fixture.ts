/**
 * One API emulator for a whole test file: `const api = await useApiEmulator();` at the top of the file starts it
 * (before any hook or test runs: node:test runs root-level `before` hooks concurrently, so a hook cannot be the one
 * that starts it) and stops it after the last test — the before/after preamble, written once.
 */
import {after} from 'node:test';
import {startApiEmulator} from './index.ts';
import type {ApiEmulator, ApiEmulatorOptions} from './index.ts';

/** Starts the file's emulator now and stops it when the file's tests are done. */
export async function useApiEmulator(options?: ApiEmulatorOptions): Promise<ApiEmulator> {
  const api = await startApiEmulator(options);
  after(() => api.stop());
  return api;
}
