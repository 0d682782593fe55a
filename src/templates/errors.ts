// Errors of the template module. Every error names the template and, where
// one is at fault, the variable, so a refused render is easy to trace.

export type TemplateErrorCode =
  | 'missing_variable'
  | 'invalid_variable'
  | 'missing_opt_out'
  | 'missing_disclosure'
  | 'missing_menu_option'
  | 'forbidden_content'
  | 'unsupported_syntax'
  | 'unknown_variable'
  | 'invalid_front_matter'
  | 'invalid_layout'
  | 'missing_template'
  | 'unknown_template'
  | 'invalid_request'
  | 'unencodable_text'
  | 'invalid_templates';

export interface TemplateErrorDetails {
  /** Template id `<locale>/<intent>/<channel>` or a file path. */
  template?: string;
  variable?: string;
}

export class TemplateError extends Error {
  readonly code: TemplateErrorCode;
  readonly template: string | undefined;
  readonly variable: string | undefined;

  constructor(code: TemplateErrorCode, message: string, details: TemplateErrorDetails = {}) {
    super(message);
    this.name = 'TemplateError';
    this.code = code;
    this.template = details.template;
    this.variable = details.variable;
  }
}

/** One rule a template file broke, found while loading. */
export interface TemplateProblem {
  /** Path relative to the templates directory. */
  file: string;
  rule: TemplateErrorCode;
  message: string;
  variable?: string;
}

/** Thrown once by loadTemplates with every problem found in every file. */
export class TemplateValidationError extends TemplateError {
  readonly problems: readonly TemplateProblem[];

  constructor(directory: string, problems: readonly TemplateProblem[]) {
    const lines = problems.map((p) => `  - ${p.file}: [${p.rule}] ${p.message}`);
    super('invalid_templates', `${problems.length} template problem(s) in ${directory}:\n${lines.join('\n')}`, {
      template: directory,
    });
    this.name = 'TemplateValidationError';
    this.problems = problems;
  }
}
