/**
 * The shape every command-line tool of local/ shares: parse the arguments (a
 * {@link UsageError} prints the usage: exit 2, or 0 for --help), run, print, exit with
 * the run's code; an unexpected error prints one line (with `failurePrefix`) and exits 1.
 */
export class UsageError extends Error {}

export function runCli<O>(spec: {
  parse: (argv: string[]) => O;
  usage: () => string;
  run: (options: O) => Promise<number>;
  failurePrefix?: string;
}): void {
  const main = async (): Promise<number> => {
    let options: O;
    try {
      options = spec.parse(process.argv.slice(2));
    } catch (err) {
      if (err instanceof UsageError) {
        if (err.message) console.error(err.message);
        console.error(spec.usage());
        return err.message ? 2 : 0;
      }
      throw err;
    }
    return spec.run(options);
  };
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`${spec.failurePrefix ?? ''}${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
