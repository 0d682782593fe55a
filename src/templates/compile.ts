// Compiles one template text (an SMS body, an email subject, a voicemail…)
// with Handlebars in strict mode, after checking it uses only the small subset
// we allow: plain `{{variable}}` and `{{link variable}}`. No blocks, partials
// or triple-stash: a conditional would let a template silently drop a value,
// and `{{{x}}}` would bypass HTML escaping.
import Handlebars from 'handlebars';

type Program = hbs.AST.Program;
type Statement = hbs.AST.Statement;

export interface SyntaxProblem {
  rule: 'unsupported_syntax';
  message: string;
}

export interface CompiledPart {
  /** Variables referenced, in order of first use. */
  readonly variables: readonly string[];
  /** The template's own text, without any variable (for wording rules). */
  readonly staticText: string;
  /** Plain-text rendering (no escaping). */
  text(context: Record<string, string>): string;
  /** HTML rendering: static text and values escaped, links as anchors. */
  html(context: Record<string, string>): string;
}

const LINK_HELPER = 'link';

function createEnvironment(mode: 'text' | 'html'): typeof Handlebars {
  const env = Handlebars.create();
  env.registerHelper(LINK_HELPER, (url: unknown) => {
    const href = String(url);
    if (mode === 'text') return href;
    const escaped = env.Utils.escapeExpression(href);
    return new env.SafeString(`<a href="${escaped}">${escaped}</a>`);
  });
  return env;
}

const textEnvironment = createEnvironment('text');
const htmlEnvironment = createEnvironment('html');

function describe(statement: Statement): string {
  const loc = statement.loc ? ` at line ${statement.loc.start.line}` : '';
  return `${statement.type}${loc}`;
}

/** Walks the AST: collects variables and static text, reports disallowed syntax. */
function analyse(program: Program): { variables: string[]; staticText: string; problems: SyntaxProblem[] } {
  const variables: string[] = [];
  const problems: SyntaxProblem[] = [];
  let staticText = '';
  const useVariable = (path: hbs.AST.PathExpression, statement: Statement): void => {
    if (path.data || path.depth > 0 || path.parts.length !== 1 || path.original === 'this') {
      problems.push({
        rule: 'unsupported_syntax',
        message: `"{{${path.original}}}" ${describe(statement)}: only plain variable names are allowed`,
      });
      return;
    }
    const name = path.parts[0] as string;
    if (!variables.includes(name)) variables.push(name);
  };

  for (const statement of program.body) {
    switch (statement.type) {
      case 'ContentStatement':
        staticText += (statement as hbs.AST.ContentStatement).value;
        break;
      case 'CommentStatement':
        break;
      case 'MustacheStatement': {
        const mustache = statement as hbs.AST.MustacheStatement;
        if (!mustache.escaped) {
          problems.push({
            rule: 'unsupported_syntax',
            message: `triple-stash ${describe(statement)}: unescaped output is not allowed`,
          });
          break;
        }
        if (mustache.path.type !== 'PathExpression') {
          problems.push({
            rule: 'unsupported_syntax',
            message: `literal ${describe(statement)}: write plain text instead`,
          });
          break;
        }
        const path = mustache.path as hbs.AST.PathExpression;
        if (mustache.hash && mustache.hash.pairs.length > 0) {
          problems.push({
            rule: 'unsupported_syntax',
            message: `hash arguments ${describe(statement)} are not allowed`,
          });
          break;
        }
        if (mustache.params.length === 0) {
          if (path.original === LINK_HELPER) {
            problems.push({
              rule: 'unsupported_syntax',
              message: `{{link}} ${describe(statement)} needs a variable: {{link paymentLink}}`,
            });
          } else {
            useVariable(path, statement);
          }
          break;
        }
        const [param] = mustache.params;
        if (path.original !== LINK_HELPER || mustache.params.length !== 1 || param?.type !== 'PathExpression') {
          problems.push({
            rule: 'unsupported_syntax',
            message: `helper "${path.original}" ${describe(statement)}: only {{link variable}} is allowed`,
          });
          break;
        }
        useVariable(param as hbs.AST.PathExpression, statement);
        break;
      }
      default:
        problems.push({
          rule: 'unsupported_syntax',
          message: `${describe(statement)}: blocks, partials and decorators are not allowed`,
        });
    }
  }
  return { variables, staticText, problems };
}

/** Escapes the template's own text for HTML (Handlebars only escapes values). */
function escapeStaticText(program: Program): Program {
  for (const statement of program.body) {
    if (statement.type === 'ContentStatement') {
      const content = statement as hbs.AST.ContentStatement;
      content.value = Handlebars.Utils.escapeExpression(content.value);
    }
  }
  return program;
}

/**
 * Parses and checks a template text. Returns the problems found, or the
 * compiled part when there are none. A Handlebars parse error is a problem too.
 */
export function compilePart(source: string): { part: CompiledPart } | { problems: SyntaxProblem[] } {
  let program: Program;
  try {
    program = Handlebars.parse(source);
  } catch (error) {
    return {
      problems: [{ rule: 'unsupported_syntax', message: `does not parse: ${(error as Error).message.split('\n')[0]}` }],
    };
  }
  const { variables, staticText, problems } = analyse(program);
  if (problems.length > 0) return { problems };

  // strict: a variable absent from the context throws instead of rendering blank.
  // The registry checks every variable first, so this is the second line of defence.
  const renderText = textEnvironment.compile(program, { strict: true, noEscape: true });
  const renderHtml = htmlEnvironment.compile(escapeStaticText(Handlebars.parse(source)), { strict: true });
  return {
    part: {
      variables,
      staticText,
      text: (context) => renderText(context),
      html: (context) => renderHtml(context),
    },
  };
}

/**
 * Normalises rendered text: single spaces, no blank-only lines left by an empty
 * value (e.g. a disclosure not required in this jurisdiction), at most one
 * empty line between paragraphs.
 */
export function tidyText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.replace(/[ \t]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Escaped, tidied HTML text → paragraphs; single newlines become <br>. */
export function htmlParagraphs(escapedText: string): string {
  return tidyText(escapedText)
    .split(/\n{2,}/)
    .filter((paragraph) => paragraph !== '')
    .map((paragraph) => `<p>${paragraph.split('\n').join('<br>\n')}</p>`)
    .join('\n');
}
