/** What the sampler asks of each outside system it watches; one adapter per system implements it. */

/** One source of the server under test's figures: a metrics URL, ejabberd's HTTP API, a process in /proc. */
export interface SutSource {
  /** How failures name it: the URL, or `/proc/<pid> (<name>)`. */
  readonly name: string;
  /**
   * What its values mean when another source gives the same name: `sum` (several URLs of one cluster add up) or
   * `replace` (/proc measures the process itself, so it wins over a scraped copy of the same figure).
   */
  readonly merge: "sum" | "replace";
  /** One sampling: `sut.*` values; rejects with a SutSampleError when the system could not be read this time. */
  sample(): Promise<Record<string, number>>;
}
