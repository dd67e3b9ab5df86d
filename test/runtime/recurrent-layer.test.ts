// RecurrentLayer.initialState: the state a sequence starts from, asked of the layer (so that a learned initial state,
// Cooijmans et al. 2017, §2.1, can live inside it). Today it is zeros, exactly zeroState: [B, H] h, and c for the
// LSTM only; each call returns fresh tensors that the caller owns.
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../runtime/accel/backend.js";
import { Rng } from "../../runtime/base/rng.js";
import * as init from "../../runtime/model/init.js";
import { ParameterStore } from "../../runtime/model/parameters.js";
import { RecurrentLayer, type CellKind } from "../../runtime/model/recurrent-layer.js";

beforeAll(async () => {
  await selectBackend("cpu");
});

describe("RecurrentLayer.initialState", () => {
  for (const cell of ["lstm", "gru", "rnn"] as CellKind[])
    it(`${cell}: zeros of [B, H], as zeroState, c only for the LSTM`, () => {
      const params = new ParameterStore(new Rng(1));
      try {
        const layer = new RecurrentLayer(params, `l_${cell}`, cell, 3, 5, {
          init: init.uniform(0.1),
          recurrentInit: init.uniform(0.1),
        });
        const s = layer.initialState(4);
        const z = layer.zeroState(4);
        expect(s.h.shape).toEqual([4, 5]);
        expect(Array.from(s.h.dataSync())).toEqual(Array.from(z.h.dataSync()));
        expect(Array.from(s.h.dataSync()).every((v) => v === 0)).toBe(true);
        expect(s.c === null).toBe(cell !== "lstm");
        if (s.c) expect(Array.from(s.c.dataSync())).toEqual(new Array(20).fill(0));
        // fresh tensors each call: disposing one state leaves the next intact
        s.h.dispose();
        s.c?.dispose();
        const again = layer.initialState(4);
        expect(again.h.isDisposed).toBe(false);
        expect(Array.from(again.h.dataSync())).toEqual(new Array(20).fill(0));
        tf.dispose([again.h, again.c, z.h, z.c].filter((t): t is tf.Tensor2D => t !== null));
      } finally {
        params.dispose();
      }
    });
});
