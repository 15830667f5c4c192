import type { SourcePosition } from './query-error';

/** One step of a property path: a key (`.name`) or an array index (`[0]`). */
export type PathStep = { readonly key: string } | { readonly index: number };

export type MetaField = 'id' | 'revisionID' | 'sequence' | 'deleted';

export type ComparisonOp = '=' | '!=' | '<' | '<=' | '>' | '>=';
export type ArithmeticOp = '+' | '-' | '*' | '/' | '%' | '||';
export type BinaryOp = ComparisonOp | ArithmeticOp | 'AND' | 'OR';

interface Node {
  /** Where the expression starts (its first token). */
  readonly pos: SourcePosition;
}

export type Expr =
  | (Node & { readonly kind: 'literal'; readonly value: string | number | boolean | null })
  | (Node & { readonly kind: 'param'; readonly name: string })
  | (Node & { readonly kind: 'array'; readonly items: readonly Expr[] })
  /** A property path from the document root, or from a variable of ANY/EVERY (its first key). */
  | (Node & { readonly kind: 'path'; readonly steps: readonly PathStep[] })
  | (Node & { readonly kind: 'meta'; readonly field: MetaField })
  | (Node & { readonly kind: 'not'; readonly operand: Expr })
  | (Node & { readonly kind: 'negate'; readonly operand: Expr })
  | (Node & { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr })
  | (Node & { readonly kind: 'is'; readonly operand: Expr; readonly test: 'NULL' | 'MISSING' | 'VALUED'; readonly negated: boolean })
  | (Node & { readonly kind: 'like'; readonly operand: Expr; readonly pattern: Expr; readonly negated: boolean })
  | (Node & { readonly kind: 'in'; readonly operand: Expr; readonly list: Expr; readonly negated: boolean })
  | (Node & { readonly kind: 'between'; readonly operand: Expr; readonly low: Expr; readonly high: Expr; readonly negated: boolean })
  /** A function call; `name` upper-cased, `star` for COUNT(*). */
  | (Node & { readonly kind: 'call'; readonly name: string; readonly args: readonly Expr[]; readonly star: boolean; readonly distinct: boolean })
  | (Node & { readonly kind: 'quantified'; readonly quantifier: 'ANY' | 'EVERY'; readonly variable: string; readonly source: Expr; readonly condition: Expr });

export type SelectItem = (Node & { readonly kind: 'star' }) | (Node & { readonly kind: 'expr'; readonly expr: Expr; readonly alias: string | undefined });

export interface OrderTerm {
  readonly expr: Expr;
  readonly descending: boolean;
}

export interface SelectStatement {
  readonly distinct: boolean;
  readonly items: readonly SelectItem[];
  /** `scope.name` or `name` as written, with the position of the name for errors. */
  readonly from: { readonly scope: string | undefined; readonly name: string; readonly alias: string | undefined; readonly pos: SourcePosition };
  readonly where: Expr | undefined;
  readonly groupBy: readonly Expr[];
  readonly having: Expr | undefined;
  readonly orderBy: readonly OrderTerm[];
  readonly limit: Expr | undefined;
  readonly offset: Expr | undefined;
}
