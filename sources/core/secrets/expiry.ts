import {tokenExpiry} from '../registry/cloud.ts';

/** The expiry of a registry password when it can be read (ECR tokens, R5.1), else null: the one rule of cloud.ts. */
export function registryTokenExpiry(registryKey: string, password: string): Date | null {
  return tokenExpiry(registryKey, password);
}
