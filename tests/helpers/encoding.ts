/** Base64 as the Kubernetes API carries Secret data: UTF-8 text in, standard padded base64 out, and back. */

/** The standard base64 of `text`'s UTF-8 bytes (a Secret's `data` value). */
export const b64 = (text: string): string => Buffer.from(text, `utf8`).toString(`base64`);

/** The UTF-8 text of a base64 value. */
export const unb64 = (value: string): string => Buffer.from(value, `base64`).toString(`utf8`);
