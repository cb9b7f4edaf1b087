/** What a bad-input test inspects: the thrown error's stable code and its message. */
export interface CaughtError {
  code: string;
  message: string;
}

/** The error `fn` throws; fails the test when it returns. */
export function caught(fn: () => unknown): CaughtError {
  try {
    fn();
  } catch (err) {
    return err as CaughtError;
  }
  throw new Error('expected an error, but none was thrown');
}

/** The error `promise` rejects with; fails the test when it resolves. */
export async function rejected(promise: Promise<unknown>): Promise<CaughtError> {
  try {
    await promise;
  } catch (err) {
    return err as CaughtError;
  }
  throw new Error('expected a rejection, but the promise resolved');
}
