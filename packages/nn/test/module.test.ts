import { ArgumentError, DisposedError } from '@kiln/core';
import type { Tensor } from '@kiln/eager';
import { memory, mul, ones, randn, relu, sum, tensor, tidy, zeros } from '@kiln/eager';
import { describe, expect, it } from 'vitest';
import { BatchNorm1d, Linear, Module, ModuleList, Parameter, ReLU, Sequential, StateDictError } from '../src/index.js';

class MLP extends Module {
  fc1 = new Linear(3, 4);
  act = new ReLU();
  fc2 = new Linear(4, 2);
  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.act.forward(this.fc1.forward(x)));
  }
}

class Net extends Module {
  scale = new Parameter(ones([1]));
  body = new MLP();
  norm = new BatchNorm1d(2);
  plain = zeros([2]); // a plain tensor: not registered
  notes = 'x';
  forward(x: Tensor): Tensor {
    return this.norm.forward(mul(this.body.forward(x), this.scale));
  }
}

describe('Module registration', () => {
  it('finds parameters, buffers and children from properties, in order, with dotted names', () => {
    const net = new Net();
    expect(net.namedParameters().map(([n]) => n)).toEqual(['scale', 'body.fc1.weight', 'body.fc1.bias', 'body.fc2.weight', 'body.fc2.bias', 'norm.weight', 'norm.bias']);
    expect(net.parameters()).toHaveLength(7);
    expect(net.parameters().every((p) => p instanceof Parameter && p.requiresGrad)).toBe(true);
    expect(net.namedChildren().map(([n]) => n)).toEqual(['body', 'norm']);
    expect(net.children()[0]).toBe(net.body);
    expect(net.namedModules().map(([n, m]) => `${n}:${m.constructor.name}`)).toEqual([':Net', 'body:MLP', 'body.fc1:Linear', 'body.act:ReLU', 'body.fc2:Linear', 'norm:BatchNorm1d']);
    expect(net.modules()).toHaveLength(6);
    expect(net.namedBuffers().map(([n]) => n)).toEqual(['norm.runningMean', 'norm.runningVar', 'norm.numBatchesTracked']);
    expect(net.buffers()[0]).toBe(net.norm.runningMean);
    expect(net.namedParameters({ recurse: false }).map(([n]) => n)).toEqual(['scale']);
    expect(net.namedParameters({ prefix: 'model' })[1][0]).toBe('model.body.fc1.weight');
    net.dispose();
  });

  it('lists a shared parameter or module once, as PyTorch', () => {
    class Tied extends Module {
      a = new Linear(2, 2);
      b = this.a;
      extra: Parameter;
      constructor() {
        super();
        this.extra = this.a.weight;
      }
      forward(x: Tensor): Tensor {
        return this.b.forward(this.a.forward(x));
      }
    }
    const t = new Tied();
    expect(t.namedParameters().map(([n]) => n)).toEqual(['extra', 'a.bias']);
    expect(t.namedChildren().map(([n]) => n)).toEqual(['a']);
    expect(t.modules()).toHaveLength(2);
    expect(Object.keys(t.stateDict())).toEqual(['extra', 'a.weight', 'a.bias', 'b.weight', 'b.bias']);
    t.dispose();
  });

  it('registerBuffer declares non-learnable state; null declares the name only; non-persistent stays out of stateDict', () => {
    class WithBuffers extends Module {
      mask: Tensor | null;
      cache: Tensor | null;
      empty: Tensor | null;
      constructor() {
        super();
        this.mask = this.registerBuffer('mask', tensor([1, 0, 1], 'float32'));
        this.cache = this.registerBuffer('cache', zeros([2]), { persistent: false });
        this.empty = this.registerBuffer('empty', null);
      }
      forward(): void {}
    }
    const m = new WithBuffers();
    expect(m.namedBuffers().map(([n]) => n)).toEqual(['mask', 'cache']);
    expect(Object.keys(m.stateDict())).toEqual(['mask']);
    expect(m.parameters()).toEqual([]);
    expect(() => m.registerBuffer('bad.name', zeros([1]))).toThrowError(ArgumentError);
    expect(() => m.registerBuffer('p', new Parameter(zeros([1])))).toThrowError(/is a Parameter; buffers hold non-learnable state/);
    expect(() => m.registerBuffer('x', [1, 2] as unknown as Tensor)).toThrowError(/must be a tensor or null/);
    const net = new Net();
    expect(() => net.registerBuffer('scale', zeros([1]))).toThrowError(/'scale' is already a parameter of Net/);
    expect(() => net.registerBuffer('body', zeros([1]))).toThrowError(/already a sub-module/);
    m.dispose();
    net.dispose();
  });

  it("keeps built-in layers' parameters and buffers out of an enclosing tidy(); dispose() frees them all", () => {
    const before = memory().numTensors;
    const net = tidy(() => {
      const n = new Sequential(new MLP(), new BatchNorm1d(2));
      n.forward(randn([4, 3])).dispose();
      return n;
    });
    expect(net.parameters()).toHaveLength(6);
    expect(net.parameters().every((p) => !p.isDisposed)).toBe(true);
    expect(net.buffers().every((b) => !b.isDisposed)).toBe(true);
    net.dispose();
    expect(net.parameters().every((p) => p.isDisposed)).toBe(true);
    expect(memory().numTensors).toBe(before);
    expect(() => net.forward(randn([4, 3]))).toThrowError(DisposedError);
  });
});

describe('Module modes and gradients', () => {
  it('train()/eval() set training in every descendant and return the module', () => {
    const net = new Net();
    expect(net.training && net.body.fc1.training).toBe(true);
    expect(net.eval()).toBe(net);
    expect(net.modules().every((m) => !m.training)).toBe(true);
    net.body.train();
    expect([net.training, net.body.training, net.body.fc2.training, net.norm.training]).toEqual([false, true, true, false]);
    expect(() => net.train('yes' as unknown as boolean)).toThrowError(ArgumentError);
    net.dispose();
  });

  it('zeroGrad clears every parameter gradient; requireGrad(false) freezes', () => {
    const net = new MLP();
    sum(net.forward(randn([2, 3]))).backward();
    expect(net.parameters().every((p) => p.grad !== null)).toBe(true);
    net.zeroGrad();
    expect(net.parameters().every((p) => p.grad === null)).toBe(true);
    net.fc1.requireGrad(false);
    sum(net.forward(randn([2, 3]))).backward();
    expect([net.fc1.weight.grad, net.fc2.weight.grad === null]).toEqual([null, false]);
    net.dispose();
  });

  it('apply() visits descendants first, then the module', () => {
    const net = new MLP();
    const seen: string[] = [];
    net.apply((m) => seen.push(m.constructor.name));
    expect(seen).toEqual(['Linear', 'ReLU', 'Linear', 'MLP']);
    net.dispose();
  });
});

describe('stateDict / loadStateDict', () => {
  it('stateDict holds params then buffers per module, sharing data without requiring grad', () => {
    const net = new Net();
    const sd = net.stateDict();
    expect(Object.keys(sd)).toEqual([
      'scale', 'body.fc1.weight', 'body.fc1.bias', 'body.fc2.weight', 'body.fc2.bias',
      'norm.weight', 'norm.bias', 'norm.runningMean', 'norm.runningVar', 'norm.numBatchesTracked',
    ]);
    expect(sd['body.fc1.weight'].toArray()).toEqual(net.body.fc1.weight.toArray());
    expect(sd['body.fc1.weight'].requiresGrad).toBe(false);
    expect(sd['body.fc1.weight']).not.toBe(net.body.fc1.weight);
    expect(sd['norm.numBatchesTracked'].dtype).toBe('int32');
    net.dispose();
  });

  it('round-trips into another instance: the same outputs, parameters keep their identity', () => {
    const a = new MLP();
    const b = new MLP();
    const weight = b.fc1.weight;
    const x = randn([5, 3]);
    expect(b.forward(x).toArray()).not.toEqual(a.forward(x).toArray());
    const result = b.loadStateDict(a.stateDict());
    expect(result).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(b.forward(x).toArray()).toEqual(a.forward(x).toArray());
    expect(b.fc1.weight).toBe(weight);
    expect(b.fc1.weight.requiresGrad).toBe(true);
    b.loadStateDict(new Map(Object.entries(a.stateDict()))); // a Map works too
    a.dispose();
    b.dispose();
  });

  it('lists every problem at once and loads nothing', () => {
    const net = new MLP();
    const before = net.fc2.bias!.toArray();
    const sd = net.stateDict();
    delete sd['fc1.bias'];
    sd['fc2.bias'] = zeros([2]); // fine on its own: must not be loaded when anything else is wrong
    sd['fc1.weight'] = zeros([4, 5]);
    sd['fc2.weight'] = zeros([2, 4], 'float64');
    sd['extra.weight'] = zeros([1]);
    let error: unknown;
    try {
      net.loadStateDict(sd);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StateDictError);
    const e = error as StateDictError;
    expect(e).toBeInstanceOf(ArgumentError);
    expect(e.missingKeys).toEqual(['fc1.bias']);
    expect(e.unexpectedKeys).toEqual(['extra.weight']);
    expect(e.mismatches.map((m) => m.key)).toEqual(['fc1.weight', 'fc2.weight']);
    expect(e.message).toContain("missing keys: 'fc1.bias'");
    expect(e.message).toContain("unexpected keys: 'extra.weight'");
    expect(e.message).toContain("'fc1.weight' has shape [4,5] in the dict but [4,3] in the module");
    expect(e.message).toContain("'fc2.weight' has dtype float64 in the dict but float32 in the module");
    expect(e.message).toContain('into MLP (nothing was loaded)');
    expect(net.fc2.bias!.toArray()).toEqual(before);
    net.dispose();
  });

  it('strict: false loads the matching keys and reports the rest; mismatches still throw', () => {
    const net = new MLP();
    const other = new MLP();
    const sd = other.stateDict();
    delete sd['fc2.bias'];
    sd['head.weight'] = zeros([1]);
    const result = net.loadStateDict(sd, { strict: false });
    expect(result).toEqual({ missingKeys: ['fc2.bias'], unexpectedKeys: ['head.weight'] });
    expect(net.fc1.weight.toArray()).toEqual(other.fc1.weight.toArray());
    expect(() => net.loadStateDict({ 'fc1.weight': zeros([1]) }, { strict: false })).toThrowError(StateDictError);
    expect(() => net.loadStateDict({ 'fc1.weight': [1] as unknown as Tensor }, { strict: false })).toThrowError(/'fc1.weight' is object, not a tensor/);
    expect(() => net.loadStateDict(null as unknown as Record<string, Tensor>)).toThrowError(ArgumentError);
    net.dispose();
    other.dispose();
  });

  it('a later assign leaves an earlier stateDict as it was (a snapshot sharing storage)', () => {
    const net = new Linear(2, 1);
    const sd = net.stateDict();
    const saved = sd.weight.toArray();
    net.weight.assign(zeros([1, 2]));
    expect(sd.weight.toArray()).toEqual(saved);
    net.dispose();
  });
});

describe('toString', () => {
  it('prints like PyTorch: class name, options, one child per line, nested indentation', () => {
    const net = new Net();
    expect(String(net)).toBe(
      [
        'Net(',
        '  (body): MLP(',
        '    (fc1): Linear(inFeatures=3, outFeatures=4, bias=true)',
        '    (act): ReLU()',
        '    (fc2): Linear(inFeatures=4, outFeatures=2, bias=true)',
        '  )',
        '  (norm): BatchNorm1d(2, eps=0.00001, momentum=0.1, affine=true, trackRunningStats=true)',
        ')',
      ].join('\n'),
    );
    expect(String(new Sequential(new Linear(4, 2, { bias: false })))).toBe('Sequential(\n  (0): Linear(inFeatures=4, outFeatures=2, bias=false)\n)');
    net.dispose();
  });
});

describe('Sequential and ModuleList', () => {
  it('Sequential chains forward, names children 0.. or by object keys, supports at/append/iteration', () => {
    const seq = new Sequential(new Linear(3, 4), new ReLU());
    const x = randn([2, 3]);
    const fc = seq.at(0) as Linear;
    expect(seq.forward(x).toArray()).toEqual(relu(fc.forward(x)).toArray());
    expect(seq.length).toBe(2);
    expect(seq.at(-1)).toBeInstanceOf(ReLU);
    seq.append(new Linear(4, 1));
    expect(seq.forward(x).shape).toEqual([2, 1]);
    expect([...seq].map((m) => m.constructor.name)).toEqual(['Linear', 'ReLU', 'Linear']);
    expect(Object.keys(seq.stateDict())).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(() => seq.at(3)).toThrowError(/index 3 is out of range for 3 modules/);
    const named = new Sequential({ encoder: new Linear(3, 2), act: new ReLU() });
    expect(named.namedParameters().map(([n]) => n)).toEqual(['encoder.weight', 'encoder.bias']);
    expect(() => new Sequential(new Linear(1, 1), 5 as unknown as Linear)).toThrowError(/item 1 must be a Module/);
    seq.dispose();
    named.dispose();
  });

  it('ModuleList registers its items (repeats allowed), supports append/extend/insert/at, and has no forward', () => {
    const a = new Linear(2, 2);
    const list = new ModuleList([a, new ReLU()]);
    list.append(a).insert(1, new Linear(2, 3)).extend([new ReLU()]);
    expect([...list].map((m) => m.constructor.name)).toEqual(['Linear', 'Linear', 'ReLU', 'Linear', 'ReLU']);
    expect(list.length).toBe(5);
    expect(list.at(3)).toBe(a);
    expect(list.parameters()).toHaveLength(4); // a counted once
    expect(Object.keys(list.stateDict())).toEqual(['0.weight', '0.bias', '1.weight', '1.bias', '3.weight', '3.bias']);
    expect(() => list.forward()).toThrowError(/ModuleList has no forward\(\); iterate over it/);
    expect(() => list.insert(9, new ReLU())).toThrowError(ArgumentError);
    list.insert(-1, new ReLU());
    expect(list.at(-2)).toBeInstanceOf(ReLU);
    list.dispose();
  });
});

describe('memory', () => {
  it('a training-style loop over a model leaves the live tensor count flat', () => {
    const net = new Net();
    const x = randn([8, 3]);
    const step = () =>
      tidy(() => {
        net.zeroGrad();
        sum(net.forward(x)).backward();
      });
    step();
    net.zeroGrad();
    const before = memory().numTensors;
    for (let i = 0; i < 20; i++) step();
    net.zeroGrad();
    expect(memory().numTensors).toBe(before);
    net.dispose();
  });
});

describe('Parameter ownership', () => {
  it('survives the tidy() that created it, and is freed by dispose()', () => {
    const start = memory().numTensors;
    const inner: Parameter[] = [];
    tidy(() => {
      inner.push(new Parameter(ones([4])));
    });
    expect(inner[0].isDisposed).toBe(false);
    expect(inner[0].toArray()).toEqual([1, 1, 1, 1]);
    inner[0].dispose();
    expect(memory().numTensors).toBe(start);
  });
});
