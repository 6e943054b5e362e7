/**
 * Minimal types for better-sqlite3 (the subset src/node uses). Replace with @types/better-sqlite3 when it is a
 * devDependency.
 */
declare module 'better-sqlite3' {
  interface RunResult {
    changes: number;
    lastInsertRowid: number | bigint;
  }
  interface Statement {
    run(...params: unknown[]): RunResult;
    get(...params: unknown[]): unknown;
    all(...params: unknown[]): unknown[];
  }
  interface DatabaseInstance {
    readonly open: boolean;
    prepare(sql: string): Statement;
    exec(sql: string): this;
    pragma(sql: string, opts?: { simple?: boolean }): unknown;
    transaction<F extends (...args: never[]) => unknown>(fn: F): F;
    close(): this;
  }
  interface DatabaseConstructor {
    new (filename: string, options?: { readonly?: boolean; fileMustExist?: boolean; timeout?: number }): DatabaseInstance;
  }
  const Database: DatabaseConstructor;
  export default Database;
}
