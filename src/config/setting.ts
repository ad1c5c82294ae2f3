/** The shape of one node setting, shared by the schema and its groups (xmpp-settings.ts, sut-settings.ts). */
import type { FormatName, FormatType } from "./formats.js";

/** A schema entry of format `F`; `run` marks keys a run's settings may override. */
export interface SettingSpec<F extends FormatName = FormatName> {
  doc: string;
  format: F;
  default: FormatType<F>;
  /** May be given per run (`do(..., settings)`, `--set`) rather than only per node. */
  run?: boolean;
  sensitive?: boolean;
  /** What `bin/amoc help` prints as the default when the value alone would mislead (a port served only when set). */
  defaultText?: string;
}

/** One setting; typed so that its default has the type of its format. */
export function setting<F extends FormatName>(spec: SettingSpec<F>): SettingSpec<F> {
  return spec;
}
