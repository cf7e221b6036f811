export { rulesAnalyzer } from './analyzer.ts';
export { parseRuleSpecs, RULE_LIMITS, type RuleSpec } from './spec.ts';
