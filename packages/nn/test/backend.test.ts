import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { selectBackend, useBackend } from '../src/backend';

const savedEnv = process.env.SDEKIT_TF_BACKEND;
afterEach(() => {
  if (savedEnv === undefined) delete process.env.SDEKIT_TF_BACKEND;
  else process.env.SDEKIT_TF_BACKEND = savedEnv;
});

describe('selectBackend', () => {
  it('auto picks tfjs-node when installed, otherwise wasm, and records why node was skipped', async () => {
    delete process.env.SDEKIT_TF_BACKEND;
    let nodeInstalled = true;
    try {
      await import(/* @vite-ignore */ '@tensorflow/tfjs-node' as string);
    } catch {
      nodeInstalled = false;
    }
    const sel = await selectBackend('auto');
    expect(sel.name).toBe(nodeInstalled ? 'tensorflow' : 'wasm');
    expect(tf.getBackend()).toBe(sel.name);
    if (!nodeInstalled) expect(sel.skipped.map((s) => s.backend)).toEqual(['node']);
  });

  it('an explicit backend is used exactly, and gradients are registered', async () => {
    const sel = await selectBackend('cpu');
    expect(sel.name).toBe('cpu');
    // d/dx sum(x^3) = 3 x^2: needs the Pow/Mul gradient kernels that only the tfjs bundle registers.
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(x, tf.mul(x, x))))(tf.tensor1d([1, 2]));
    expect(Array.from(await g.data())).toEqual([3, 12]);
    g.dispose();
    await selectBackend('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('the environment variable overrides auto; bad names are typed errors', async () => {
    process.env.SDEKIT_TF_BACKEND = 'cpu';
    expect((await selectBackend()).name).toBe('cpu');
    process.env.SDEKIT_TF_BACKEND = 'gpu';
    await expect(selectBackend()).rejects.toThrow(/SDEKIT_TF_BACKEND: unknown backend 'gpu'/);
    // biome-ignore lint/suspicious/noExplicitAny: deliberately wrong input
    await expect(selectBackend('metal' as any)).rejects.toThrow(/preference: unknown backend 'metal'/);
  });
});

describe('useBackend', () => {
  it('sets up a backend with gradients in one call and returns its name', async () => {
    const name = await useBackend('cpu');
    expect(name).toBe('cpu');
    const g = tf.grad((x: tf.Tensor) => tf.mean(tf.square(x)))(tf.tensor1d([1, 3]));
    expect(Array.from(await g.data())).toEqual([1, 3]);
    g.dispose();
    expect(await useBackend()).toBe(tf.getBackend());
  });
});
