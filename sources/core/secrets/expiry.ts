import {describeRegistry, ecrTokenExpiry} from '../registry/cloud.ts';

/** The expiry of a registry password when it can be read (ECR tokens, R5.1), else null. */
export function registryTokenExpiry(registryKey: string, password: string): Date | null {
  return describeRegistry(registryKey).kind === `ecr` ? ecrTokenExpiry(password) : null;
}
