// The one error type of the data loaders. Its message is meant for the person running an experiment: it says what
// was expected, where, and how to fix it, so the CLI prints the message alone and never a stack trace.

export class DataError extends Error {
  override readonly name = "DataError";
  /** Its message is for the user as it stands: the CLI prints it without a stack trace. */
  readonly userFacing = true;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
