/** The run cannot go on (stack unreachable, key not trusted...): printed as one line, exit 1. */
export class RunError extends Error {}
