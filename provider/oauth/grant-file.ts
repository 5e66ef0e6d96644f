/**
 * Using a grant kept in a file (`mailserver authorize --out`, referenced as
 * `auth.refreshToken: { file }`) when the issuer may rotate refresh tokens: the old token dies
 * when it is used, so
 * - every refresh holds a cross-process lock on the file (proper-lockfile: a `.lock` folder next
 *   to it, kept fresh while held, taken over when stale), and reads the token under that lock, so
 *   two processes never spend the same token;
 * - the write of the new token is prepared before the refresh: a private temporary file in the
 *   same folder, already as large as the new grant will be, so a read-only mount, a full disk, an
 *   immutable file or a folder without write permission fail before the token is spent;
 * - a failure to store is `grant-save-failed` with the path and the system's reason, and no
 *   temporary file is left behind.
 */
import { constants } from "node:fs";
import { access, type FileHandle, open, readFile, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { lock } from "proper-lockfile";
import { MailServerError } from "../errors.js";

/** What a refresh under the lock gets: the token as it is now, and where to save the next one. */
export interface LockedGrant {
  /** The refresh token in the file, read while the lock is held. */
  refreshToken: string;
  /** Writes a new refresh token into the file (the other fields of a grant file are kept). */
  save(refreshToken: string): Promise<void>;
}

export interface GrantFileOptions {
  /** How long to wait for another process's lock, in ms (default 60 s; a refresh takes < 20 s). */
  waitMs?: number;
}

/** Room reserved beyond the current grant for the new one (tokens change length a little). */
const RESERVE_BYTES = 16 * 1024;
/** A lock not refreshed for this long belongs to a process that died: it is taken over. */
const STALE_MS = 20_000;

/**
 * Runs `use` while holding the grant file's lock, with the file's refresh token and a prepared save.
 * Throws `grant-save-failed` (before `use` runs) when the new token could not be stored, and
 * `grant-locked` when another process holds the lock longer than `waitMs`.
 * @example
 * const accessToken = await withGrantFile(path, async ({ refreshToken, save }) =>
 *   (await refreshGrant(auth, { refreshToken, saveRefreshToken: save })).accessToken);
 */
export async function withGrantFile<T>(
  path: string,
  use: (grant: LockedGrant) => Promise<T>,
  options: GrantFileOptions = {},
): Promise<T> {
  const release = await lockGrantFile(path, options.waitMs ?? 60_000);
  let write: PreparedWrite | undefined;
  try {
    const current = await readGrantText(path);
    write = await prepareWrite(path, current.length + RESERVE_BYTES);
    const prepared = write;
    return await use({
      refreshToken: refreshTokenOf(current, path),
      save: async (refreshToken) => {
        const text = grantWithToken(await readGrantText(path), refreshToken);
        // The prepared file serves the first save; a later one (another rotation) writes anew.
        if (prepared.committed) await writeGrantFile(path, text);
        else await prepared.commit(text);
      },
    });
  } finally {
    await write?.discard();
    await release().catch(() => undefined);
  }
}

/**
 * Checks, before anyone signs in, that a grant can be written to `path` (`authorize --out`):
 * the folder exists and takes a private file of a grant's size. Throws `grant-save-failed`.
 */
export async function checkGrantWritable(path: string): Promise<void> {
  const write = await prepareWrite(path, RESERVE_BYTES);
  await write.discard();
}

/**
 * Writes a grant file atomically with mode 0600 (a prepared temporary file renamed over it);
 * throws `grant-save-failed` and leaves no temporary file when it cannot.
 */
export async function writeGrantFile(path: string, content: string): Promise<void> {
  const write = await prepareWrite(path, Buffer.byteLength(content));
  try {
    await write.commit(content);
  } finally {
    await write.discard();
  }
}

interface PreparedWrite {
  readonly committed: boolean;
  /** Writes `content` into the reserved file and renames it over the grant. */
  commit(content: string): Promise<void>;
  /** Removes the temporary file unless it was committed. */
  discard(): Promise<void>;
}

async function prepareWrite(path: string, reserve: number): Promise<PreparedWrite> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  let handle: FileHandle | undefined;
  let created = false;
  let committed = false;
  const discard = async () => {
    await handle?.close().catch(() => undefined);
    handle = undefined;
    if (created && !committed) await unlink(temporary).catch(() => undefined);
  };
  try {
    // An existing grant must be replaceable (an immutable file is not, even for root).
    await access(path, constants.W_OK).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error;
    });
    handle = await open(temporary, "wx", 0o600);
    created = true;
    // Claim the space now: a full disk fails here, before the refresh, not after.
    await handle.write(Buffer.alloc(reserve, 0x20), 0, reserve, 0);
    await handle.sync();
  } catch (error) {
    await discard();
    throw saveFailed(path, error, "before the refresh or sign-in, so nothing was spent");
  }
  return {
    discard,
    get committed() {
      return committed;
    },
    async commit(content) {
      try {
        const bytes = Buffer.from(content);
        await (handle as FileHandle).write(bytes, 0, bytes.length, 0);
        await (handle as FileHandle).truncate(bytes.length);
        await (handle as FileHandle).sync();
        await (handle as FileHandle).close();
        handle = undefined;
        await rename(temporary, path);
        committed = true;
      } catch (error) {
        await discard();
        throw saveFailed(path, error, "after the issuer issued it: the grant may be lost");
      }
    },
  };
}

async function lockGrantFile(path: string, waitMs: number): Promise<() => Promise<void>> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      // proper-lockfile's own retries would also retry a read-only or full folder: only a lock
      // held by another process is waited for (below).
      return await lock(path, {
        realpath: false,
        stale: STALE_MS,
        retries: 0,
        // The lock was taken over (this process stalled longer than STALE_MS): the save is then
        // still a rename of a complete file; nothing else to do here.
        onCompromised: () => undefined,
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ELOCKED" || Date.now() >= deadline) {
        throw lockFailed(path, error, waitMs);
      }
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
    }
  }
}

function lockFailed(path: string, error: unknown, waitMs: number): MailServerError {
  if ((error as NodeJS.ErrnoException).code === "ELOCKED") {
    return new MailServerError(
      "grant-locked",
      `${path} is in use by another process (its lock ${path}.lock was held for more than ${Math.round(waitMs / 1000)} s)`,
      {
        field: "auth.refreshToken",
        remedy: `Wait for the other mailserver or pulumi run to finish; if none runs, remove ${path}.lock.`,
        cause: error,
      },
    );
  }
  // The lock is a folder next to the grant: if it cannot be made, neither can the new grant.
  return saveFailed(path, error, "before the refresh, so nothing was spent");
}

async function readGrantText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new MailServerError(
      "secret-unresolved",
      `auth.refreshToken (file:${path}) cannot be read: ${reason}`,
      {
        field: "auth.refreshToken",
        cause: error,
      },
    );
  }
}

/** The refresh token of a grant file: JSON from `authorize --out`, or the token itself. */
function refreshTokenOf(text: string, path: string): string {
  const trimmed = text.trim();
  let token = trimmed;
  if (trimmed.startsWith("{")) {
    try {
      const grant = JSON.parse(trimmed) as { refreshToken?: unknown };
      token = typeof grant.refreshToken === "string" ? grant.refreshToken : "";
    } catch {
      // Not JSON after all: the file holds the token itself.
    }
  }
  if (token === "") {
    throw new MailServerError(
      "secret-unresolved",
      `auth.refreshToken (file:${path}) holds no refresh token`,
      {
        field: "auth.refreshToken",
      },
    );
  }
  return token;
}

/** The grant file's text with a new refresh token (other fields of a JSON grant kept). */
function grantWithToken(text: string, refreshToken: string): string {
  try {
    const grant = JSON.parse(text) as unknown;
    if (grant && typeof grant === "object" && !Array.isArray(grant)) {
      return `${JSON.stringify({ ...grant, refreshToken, rotatedAt: new Date().toISOString() }, null, 2)}\n`;
    }
  } catch {
    // A plain token file stays one.
  }
  return `${refreshToken}\n`;
}

function saveFailed(path: string, error: unknown, when: string): MailServerError {
  const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  const why: Record<string, string> = {
    EROFS: "the file system is read-only",
    ENOSPC: "no space is left on the device",
    EDQUOT: "the disk quota is exhausted",
    EACCES: "permission denied",
    EPERM: "the file or its folder may not be changed (immutable, or not yours)",
    ENOENT: "the folder does not exist",
    ENOTDIR: "a part of the path is not a folder",
  };
  return new MailServerError(
    "grant-save-failed",
    `the grant cannot be stored in ${path}: ${why[reason] ?? "the write failed"} (${reason}); found ${when}`,
    { field: "auth.refreshToken", cause: error, details: { path, reason } },
  );
}
