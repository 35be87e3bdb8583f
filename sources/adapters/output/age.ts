/**
 * kubectl's AGE column (apimachinery duration.HumanDuration): `45s`, `3m20s`, `95m`, `5h30m`, `30h`,
 * `3d4h`, `200d`, `2y10d`. `<unknown>` when there is no timestamp.
 */
export function humanAge(createdAt: string | null | undefined, now: Date): string {
  if (!createdAt)
    return `<unknown>`;
  const ms = now.getTime() - Date.parse(createdAt);
  if (Number.isNaN(ms))
    return `<unknown>`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1)
    return `<invalid>`;
  if (seconds < 0)
    return `0s`;
  if (seconds < 120)
    return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10)
    return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180)
    return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8)
    return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48)
    return `${hours}h`;
  if (hours < 24 * 8)
    return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2)
    return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24);
    return days % 365 === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}
