import type {RegistryProbeOptions} from '../../context.ts';
import {PullSecretError} from '../../core/errors.ts';
import type {RegistryProbe} from '../../core/ports.ts';

/** Builds the containerd-like registry probe. Implemented in the registry client work. */
export function makeRegistryProbe(_options: RegistryProbeOptions): RegistryProbe {
  throw new PullSecretError(`the registry client is not built yet`);
}
