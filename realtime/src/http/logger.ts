// The logging the HTTP edge needs (pino satisfies it; tests pass a recorder).
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
