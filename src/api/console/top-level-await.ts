/**
 * Top-level `await` for the console: a line with `await` that does not compile as a script runs as an async function
 * whose value is its last expression; its top-level `const`/`let`/`var`, functions and classes become context
 * globals so later lines see them (as Node's own REPL does).
 */
import vm from "node:vm";

const FILENAME = "amoc-console";

/** A syntax error that more input may complete (the REPL then waits for the next line). */
export function isIncomplete(e: unknown): boolean {
  return e instanceof SyntaxError && /Unexpected end of input|missing \) after|Unterminated template/.test(e.message);
}

/** Runs console input in `context`; input using `await` returns a promise of its last expression's value. */
export function evalWithAwait(code: string, context: vm.Context): unknown {
  if (!/\bawait\b/.test(code)) return vm.runInContext(code, context, { filename: FILENAME });
  let script: vm.Script;
  try {
    script = new vm.Script(code, { filename: FILENAME });
  } catch (original) {
    if (isIncomplete(original)) throw original;
    // open brackets or an open template: the rest of the statement is on the next line
    if (scan(code).open) throw new SyntaxError("Unexpected end of input");
    try {
      script = new vm.Script(wrapAwait(code), { filename: FILENAME });
    } catch {
      throw original;
    }
  }
  return script.runInContext(context);
}

const BLOCK_START = /^(?:if|for|while|do|switch|try|throw|return|break|continue|import|export)\b|^\{/;

/** Rewrites code into an async IIFE returning its last expression, declarations turned into global assignments. */
export function wrapAwait(code: string): string {
  const stmts = splitStatements(code);
  const out: string[] = [];
  stmts.forEach((s, i) => {
    const last = i === stmts.length - 1;
    const decl = /^(?:const|let|var)\s+([\s\S]*)$/.exec(s);
    if (decl) {
      const rest = (decl[1] as string).trim();
      if (/^[\w$]+(?:\s*,\s*[\w$]+)*$/.test(rest))
        out.push(
          `void (${rest
            .split(/\s*,\s*/)
            .map((n) => `${n} = undefined`)
            .join(", ")})`,
        );
      else out.push(`void (${rest}\n)`);
      return;
    }
    const fn = /^(?:async\s+)?function\s*\*?\s*([\w$]+)/.exec(s) ?? /^class\s+([\w$]+)/.exec(s);
    if (fn) {
      out.push(`${fn[1]} = ${s}`);
      return;
    }
    out.push(last && !BLOCK_START.test(s) ? `return (${s}\n)` : s);
  });
  return `(async () => {\n${out.join(";\n")}\n})()`;
}

/** Splits code at top-level `;` and at line ends that end a statement; strings, templates and comments are skipped. */
export function splitStatements(code: string): string[] {
  return scan(code).statements;
}

/** The statements of `code`, and whether it ends inside brackets or a template (an unfinished statement). */
function scan(code: string): { statements: string[]; open: boolean } {
  const out: string[] = [];
  const stack: string[] = []; // open brackets, and "${" for a template whose substitution is open
  let unterminated = false;
  let cur = "";
  let i = 0;
  const push = () => {
    const t = cur.trim();
    if (t) out.push(t);
    cur = "";
  };
  while (i < code.length) {
    const c = code[i] as string;
    const next = code[i + 1];
    if (c === "/" && next === "/") {
      const end = code.indexOf("\n", i);
      i = end < 0 ? code.length : end;
      continue;
    }
    if (c === "/" && next === "*") {
      const end = code.indexOf("*/", i + 2);
      i = end < 0 ? code.length : end + 2;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < code.length && code[j] !== c && code[j] !== "\n") j += code[j] === "\\" ? 2 : 1;
      cur += code.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (c === "`" || (c === "}" && stack[stack.length - 1] === "${")) {
      // template text up to the closing backtick or the next `${`
      if (c === "}") stack.pop();
      let j = i + 1;
      while (j < code.length && code[j] !== "`" && !(code[j] === "$" && code[j + 1] === "{"))
        j += code[j] === "\\" ? 2 : 1;
      if (j >= code.length) unterminated = true;
      if (code[j] === "$") {
        stack.push("${");
        cur += code.slice(i, j + 2);
        i = j + 2;
      } else {
        cur += code.slice(i, j + 1);
        i = j + 1;
      }
      continue;
    }
    if (c === "(" || c === "[" || c === "{") stack.push(c);
    else if (c === ")" || c === "]" || c === "}") stack.pop();
    if (stack.length === 0 && c === ";") {
      push();
      i++;
      continue;
    }
    if (stack.length === 0 && c === "\n" && endsStatement(cur) && !continuesStatement(code.slice(i + 1))) {
      push();
      i++;
      continue;
    }
    cur += c;
    i++;
  }
  const open = stack.length > 0 || unterminated;
  push();
  return { statements: out, open };
}

function endsStatement(s: string): boolean {
  return /[\w$)\]}'"`]\s*$/.test(s) && !/\b(?:else|return|await|typeof|new|in|of|instanceof)\s*$/.test(s);
}

function continuesStatement(rest: string): boolean {
  return /^\s*(?:[.?:+\-*/%&|^=<>,)\]}]|else\b|catch\b|finally\b)/.test(rest);
}
