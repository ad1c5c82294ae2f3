/** A printable wrapper: the REPL shows `text` as is instead of an inspected object. */
import { inspect } from "node:util";

export class Printed {
  constructor(readonly text: string) {}
  [inspect.custom](): string {
    return this.text;
  }
}
