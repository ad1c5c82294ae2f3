/**
 * The scenario editor: CodeMirror 6 with TypeScript highlighting, line numbers and a lint gutter where compile
 * problems are marked at their line and column.
 */
import { javascript } from "@codemirror/lang-javascript";
import { lintGutter, setDiagnostics, type Diagnostic } from "@codemirror/lint";
import { basicSetup, EditorView } from "codemirror";

/** A problem at a 1-based line and column. */
export interface EditorProblem {
  line: number;
  column: number;
  message: string;
}

/** One editor on the page. */
export class ScenarioEditor {
  readonly view: EditorView;
  private errorLines: number[] = [];

  constructor(parent: HTMLElement) {
    this.view = new EditorView({
      parent,
      extensions: [
        basicSetup,
        javascript({ typescript: true }),
        lintGutter(),
        EditorView.theme({ "&": { height: "480px" }, ".cm-scroller": { fontFamily: "ui-monospace, monospace" } }),
      ],
    });
  }

  get text(): string {
    return this.view.state.doc.toString();
  }

  set text(t: string) {
    this.view.dispatch({ changes: { from: 0, to: this.view.state.doc.length, insert: t } });
    this.mark([]);
  }

  /** Marks problems (an empty list clears them). */
  mark(problems: EditorProblem[]): void {
    const doc = this.view.state.doc;
    const diags: Diagnostic[] = problems
      .filter((p) => p.line >= 1 && p.line <= doc.lines)
      .map((p) => {
        const l = doc.line(p.line);
        const from = Math.min(l.to, l.from + Math.max(0, p.column - 1));
        return { from, to: Math.max(from, l.to), severity: "error", message: p.message };
      });
    this.errorLines = problems.map((p) => p.line);
    this.view.dispatch(setDiagnostics(this.view.state, diags));
  }

  /** The lines marked with errors (tests read them). */
  marked(): number[] {
    return [...this.errorLines];
  }

  /** Selects a line and scrolls it into view. */
  goTo(line: number): void {
    const doc = this.view.state.doc;
    const l = doc.line(Math.min(Math.max(1, line), doc.lines));
    this.view.dispatch({ selection: { anchor: l.from, head: l.to }, scrollIntoView: true });
    this.view.focus();
  }
}
