/**
 * Edge counters for coverage-guided fuzzing, put into the project's TypeScript at
 * load time (bench/_fuzz-hooks.ts) with the TypeScript compiler's own transformer
 * API (no new dependency), the way Jazzer.js and istanbul instrument JavaScript:
 * every arm of every branch gets a probe
 *
 *   if (c) A            ─▶ if (c) { P1; A } else { P2 }
 *   switch … case x: A  ─▶ case x: P3; A
 *   a && b, a ?? b      ─▶ a && (P4, b)
 *   c ? a : b           ─▶ c ? (P5, a) : (P6, b)
 *   loop bodies, catch blocks, function bodies likewise
 *
 * where a probe Pi is `__lifelineCovMap[i] === 0 && (__lifelineCovMap[i] = 1, __lifelineCovHits[0]++)`:
 * one byte read per arm taken; the first time an arm runs it is marked and the
 * count of arms covered goes up. The fuzzer reads that one count after each input
 * (a new arm: keep the input), instead of asking V8 for its block coverage.
 */
import ts from 'typescript';

export const COV_MAP = '__lifelineCovMap';
export const COV_HITS = '__lifelineCovHits';
/** Probes beyond this share slots (modulo), like AFL's map. */
export const COV_SIZE = 1 << 20;

export interface Instrumented {
  code: string;
  /** Probes put in (ids firstId … firstId + probes − 1). */
  probes: number;
}

/** Instrument one TypeScript (or JavaScript) module, and transpile it to ES2022 JavaScript. */
export function instrument(source: string, fileName: string, firstId: number): Instrumented {
  let next = firstId;
  const f = ts.factory;
  const slot = (id: number) => f.createElementAccessExpression(f.createIdentifier(COV_MAP), f.createNumericLiteral(id % COV_SIZE));
  const probeExpr = (): ts.Expression => {
    const id = next++;
    return f.createBinaryExpression(
      f.createStrictEquality(slot(id), f.createNumericLiteral(0)),
      ts.SyntaxKind.AmpersandAmpersandToken,
      f.createParenthesizedExpression(
        f.createComma(f.createAssignment(slot(id), f.createNumericLiteral(1)), f.createPostfixIncrement(f.createElementAccessExpression(f.createIdentifier(COV_HITS), f.createNumericLiteral(0)))),
      ),
    );
  };
  const probe = (): ts.Statement => f.createExpressionStatement(probeExpr());
  const withProbe = (e: ts.Expression): ts.Expression => f.createParenthesizedExpression(f.createComma(probeExpr(), f.createParenthesizedExpression(e)));
  const block = (s: ts.Statement): ts.Block => (ts.isBlock(s) ? f.updateBlock(s, [probe(), ...s.statements]) : f.createBlock([probe(), s], true));

  const transformer: ts.TransformerFactory<ts.SourceFile> = (ctx) => {
    const visit = (node: ts.Node): ts.Node => {
      // Types, overloads and declarations without bodies have nothing to count.
      if (ts.isTypeNode(node) || ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node)) return node;
      node = ts.visitEachChild(node, visit, ctx);
      if (ts.isIfStatement(node)) {
        return f.updateIfStatement(node, node.expression, block(node.thenStatement), node.elseStatement ? block(node.elseStatement) : f.createBlock([probe()], true));
      }
      if (ts.isCaseClause(node)) return f.updateCaseClause(node, node.expression, [probe(), ...node.statements]);
      if (ts.isDefaultClause(node)) return f.updateDefaultClause(node, [probe(), ...node.statements]);
      if (ts.isConditionalExpression(node)) {
        return f.updateConditionalExpression(node, node.condition, node.questionToken, withProbe(node.whenTrue), node.colonToken, withProbe(node.whenFalse));
      }
      if (ts.isBinaryExpression(node)) {
        const k = node.operatorToken.kind;
        if (
          k === ts.SyntaxKind.AmpersandAmpersandToken ||
          k === ts.SyntaxKind.BarBarToken ||
          k === ts.SyntaxKind.QuestionQuestionToken ||
          k === ts.SyntaxKind.AmpersandAmpersandEqualsToken ||
          k === ts.SyntaxKind.BarBarEqualsToken ||
          k === ts.SyntaxKind.QuestionQuestionEqualsToken
        ) {
          return f.updateBinaryExpression(node, node.left, node.operatorToken, withProbe(node.right));
        }
        return node;
      }
      if (ts.isForStatement(node)) return f.updateForStatement(node, node.initializer, node.condition, node.incrementor, block(node.statement));
      if (ts.isForOfStatement(node)) return f.updateForOfStatement(node, node.awaitModifier, node.initializer, node.expression, block(node.statement));
      if (ts.isForInStatement(node)) return f.updateForInStatement(node, node.initializer, node.expression, block(node.statement));
      if (ts.isWhileStatement(node)) return f.updateWhileStatement(node, node.expression, block(node.statement));
      if (ts.isDoStatement(node)) return f.updateDoStatement(node, block(node.statement), node.expression);
      if (ts.isCatchClause(node)) return f.updateCatchClause(node, node.variableDeclaration, block(node.block));
      if ((ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) || ts.isMethodDeclaration(node) || ts.isGetAccessor(node) || ts.isSetAccessor(node)) && node.body) {
        const body = f.updateBlock(node.body, [probe(), ...node.body.statements]);
        if (ts.isFunctionDeclaration(node)) return f.updateFunctionDeclaration(node, node.modifiers, node.asteriskToken, node.name, node.typeParameters, node.parameters, node.type, body);
        if (ts.isFunctionExpression(node)) return f.updateFunctionExpression(node, node.modifiers, node.asteriskToken, node.name, node.typeParameters, node.parameters, node.type, body);
        if (ts.isMethodDeclaration(node)) return f.updateMethodDeclaration(node, node.modifiers, node.asteriskToken, node.name, node.questionToken, node.typeParameters, node.parameters, node.type, body);
        if (ts.isGetAccessor(node)) return f.updateGetAccessorDeclaration(node, node.modifiers, node.name, node.parameters, node.type, body);
        return f.updateSetAccessorDeclaration(node, node.modifiers, node.name, node.parameters, body);
      }
      if (ts.isConstructorDeclaration(node) && node.body) {
        // A probe before super() would break derived classes: put it last.
        return f.updateConstructorDeclaration(node, node.modifiers, node.parameters, f.updateBlock(node.body, [...node.body.statements, probe()]));
      }
      if (ts.isArrowFunction(node)) {
        const body = ts.isBlock(node.body) ? f.updateBlock(node.body, [probe(), ...node.body.statements]) : withProbe(node.body);
        return f.updateArrowFunction(node, node.modifiers, node.typeParameters, node.parameters, node.type, node.equalsGreaterThanToken, body as ts.ConciseBody);
      }
      return node;
    };
    return (sf) => ts.visitEachChild(sf, visit, ctx);
  };

  const out = ts.transpileModule(source, {
    fileName,
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: true, isolatedModules: true, sourceMap: false, inlineSourceMap: false },
    transformers: { before: [transformer] },
  });
  return { code: out.outputText, probes: next - firstId };
}
