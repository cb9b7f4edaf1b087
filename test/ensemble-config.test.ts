// Ensemble configs at parse time: ensemble_scheduling reads as Triton writes it, and a bad DAG (unknown tensor,
// two producers, cycle, unmapped ensemble output, the ensemble naming itself) is an INVALID_CONFIG error that
// names the file, the line and the field. JavaScript-backend configs must declare what there is no file to read.
import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../src/repository/parse-config.js';
import { caught } from './helpers/caught.js';

const FILE = 'models/ens/config.pbtxt';

function parse(text: string) {
  return parseModelConfig(text, { file: FILE, modelName: 'ens' }).config;
}

/** An ensemble config whose `steps` text is given; line 1 is `name`, the steps start on line 6. */
function ensemble(steps: string, outputs = '{ name: "y" data_type: TYPE_FP32 dims: [ 4 ] }'): string {
  return [
    'name: "ens"',
    'platform: "ensemble"',
    'max_batch_size: 8',
    'input [ { name: "x" data_type: TYPE_FP32 dims: [ 4 ] } ]',
    `output [ ${outputs} ]`,
    'ensemble_scheduling { step [',
    steps,
    '] }',
  ].join('\n');
}

const step = (model: string, input: string, output: string, memberIn = 'x', memberOut = 'y') =>
  `{ model_name: "${model}" input_map { key: "${memberIn}" value: "${input}" } output_map { key: "${memberOut}" value: "${output}" } }`;

describe('ensemble_scheduling parses', () => {
  it('reads steps, maps and model_version (-1 by default)', () => {
    const config = parse(ensemble([step('a', 'x', 't'), `{ model_name: "b" model_version: 2 input_map { key: "x" value: "t" } output_map { key: "y" value: "y" } }`].join(',\n')));
    expect(config.platform).toBe('ensemble');
    expect(config.ensembleScheduling!.step).toEqual([
      { modelName: 'a', modelVersion: -1, inputMap: { x: 'x' }, outputMap: { y: 't' } },
      { modelName: 'b', modelVersion: 2, inputMap: { x: 't' }, outputMap: { y: 'y' } },
    ]);
  });

  it('accepts fan-out and fan-in', () => {
    const config = parse(ensemble([
      step('a', 'x', 'p'), step('b', 'x', 'q'),
      '{ model_name: "c" input_map { key: "u" value: "p" } input_map { key: "v" value: "q" } output_map { key: "y" value: "y" } }',
    ].join(',\n')));
    expect(config.ensembleScheduling!.step[2]!.inputMap).toEqual({ u: 'p', v: 'q' });
  });

  it('reads response_cache', () => {
    expect(parse('max_batch_size: 4 response_cache { enable: true }').responseCache).toEqual({ enable: true });
  });
});

describe('bad ensemble configs are INVALID_CONFIG with file:line', () => {
  it.each([
    ['a step reading an unknown tensor', ensemble(step('a', 'nope', 'y')), 7,
      "field 'ensemble_scheduling.step[0].input_map[\"x\"]' reads tensor \"nope\", which no ensemble input or step output provides"],
    ['two steps writing one tensor', ensemble([step('a', 'x', 'y'), step('b', 'x', 'y')].join(',\n')), 8,
      'writes tensor "y", but step 0 ("a") already produces it'],
    ['a step writing an ensemble input', ensemble(step('a', 'x', 'x')), 7, 'writes tensor "x", but it is an ensemble input'],
    ['a cycle between two steps', ensemble([step('a', 'q', 'p'), step('b', 'p', 'q'), step('c', 'x', 'y')].join(',\n')), 7,
      "field 'ensemble_scheduling.step[0]' is part of a cycle: steps 0 (\"a\"), 1 (\"b\")"],
    ['a step reading its own output', ensemble(step('a', 'y', 'y')), 7, 'which the same step writes (a cycle)'],
    ['an unmapped ensemble output', ensemble(step('a', 'x', 'y'), '{ name: "y" data_type: TYPE_FP32 dims: [ 4 ] }, { name: "z" data_type: TYPE_FP32 dims: [ 4 ] }'), 5,
      "field 'output[1]' is not produced by any step (no output_map names \"z\")"],
    ['a step naming the ensemble itself', ensemble(step('ens', 'x', 'y')), 7, "field 'ensemble_scheduling.step[0].model_name' names the ensemble itself"],
    ['a step without model_name', ensemble('{ input_map { key: "x" value: "x" } output_map { key: "y" value: "y" } }'), 7, "model_name' is required"],
    ['a step with an empty input_map', ensemble('{ model_name: "a" output_map { key: "y" value: "y" } }'), 7, "input_map' must map at least one tensor"],
    ['a bad model_version', ensemble('{ model_name: "a" model_version: 0 input_map { key: "x" value: "x" } output_map { key: "y" value: "y" } }'), 7,
      'must be -1 (newest ready) or a version >= 1'],
    ['no steps', ensemble(''), 6, "field 'ensemble_scheduling.step' must list at least one step"],
  ])('%s', (_label, text, line, message) => {
    const err = caught(() => parse(text));
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toContain(`${FILE}:${line}:`);
    expect(err.message).toContain(message);
  });

  it.each([
    ['ensemble_scheduling on an ONNX model', 'max_batch_size: 4\nensemble_scheduling { step [ { model_name: "a" } ] }', 2, 'needs platform "ensemble"'],
    ['an ensemble without steps', 'platform: "ensemble"\nmax_batch_size: 4', 1, 'has no ensemble_scheduling'],
    ['an ensemble with instance_group', `${ensemble(step('a', 'x', 'y'))}\ninstance_group [ { count: 2 } ]`, 9, 'does not apply to an ensemble'],
    ['an ensemble without outputs', 'platform: "ensemble"\nmax_batch_size: 4\ninput [ { name: "x" data_type: TYPE_FP32 dims: [ 1 ] } ]\nensemble_scheduling { step [ { model_name: "a" } ] }', 1,
      "field 'output' is required for platform \"ensemble\""],
    ['a javascript model without inputs', 'backend: "javascript"\nmax_batch_size: 4\noutput [ { name: "y" data_type: TYPE_FP32 dims: [ 1 ] } ]', 1,
      "field 'input' is required for backend \"javascript\" (there is no model file to read it from)"],
    ['a javascript model without max_batch_size', 'backend: "javascript"\ninput [ { name: "x" data_type: TYPE_FP32 dims: [ 1 ] } ]\noutput [ { name: "y" data_type: TYPE_FP32 dims: [ 1 ] } ]', 1,
      "field 'max_batch_size' is required for backend \"javascript\""],
    ['a javascript model on a GPU', 'backend: "javascript"\nmax_batch_size: 4\ninput [ { name: "x" data_type: TYPE_FP32 dims: [ 1 ] } ]\noutput [ { name: "y" data_type: TYPE_FP32 dims: [ 1 ] } ]\ninstance_group [ { kind: KIND_GPU } ]', 5,
      "field 'instance_group[0].kind' does not apply to backend \"javascript\""],
    ['a javascript model with another platform', 'platform: "onnxruntime_onnx"\nbackend: "javascript"', 1, 'must be empty or "javascript"'],
    ['an ensemble with a backend', 'platform: "ensemble"\nbackend: "onnxruntime"', 2, 'must be empty for platform "ensemble"'],
    ['an input_map entry with a message value', ensemble('{ model_name: "a" input_map { key: "x" value { } } output_map { key: "y" value: "y" } }'), 7,
      "expects a string in quotes"],
  ])('%s', (_label, text, line, message) => {
    const err = caught(() => parse(text));
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toContain(`${FILE}:${line}:`);
    expect(err.message).toContain(message);
  });
});
