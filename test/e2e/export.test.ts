// `rnnc export`: a checkpoint as TensorFlow.js weights (model.json's manifest + weights.bin, read by
// tf.io.decodeWeights) and model.js, a module that needs only @tensorflow/tfjs. The exported module's perplexity
// over the first windows of the validation set matches `rnnc eval --limit-batches 2` on the same checkpoint: for a
// tied 2-layer GRU with zoneout and a learned initial state trained here, and for the committed Zaremba-small LSTM.
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dataRoot } from "../../runtime/data/locate.js";
import { makeSyntheticCorpus } from "../../runtime/data/synthetic-corpus.js";
import { expectExit, requireBuild, rnnc, ROOT, runDirOf, tempDir } from "./cli.js";

const tmp = tempDir("export");
const CHROMIUM = process.env["RNNC_CHROMIUM"] ?? "/usr/bin/chromium";
const PAGE = `<!doctype html><meta charset="utf-8">
<script type="importmap">{ "imports": { "@tensorflow/tfjs": "/tf.js" } }</script>
<script type="module">
import { ExportedLanguageModel } from "/model.js";
const model = await ExportedLanguageModel.load(new URL("/model.json", location.href).href);
window.probs = Array.from(model.nextTokenProbabilities([1, 2, 3]));
</script>`;
const SMALL = join(ROOT, "runs/zaremba_small/20261202-134128");
const SYNTH = { vocab: 16, order: 2, tokens: 24000, seed: 1 };
let gruRun = "";

interface Exported {
  vocab: readonly string[];
  evaluate(ids: ArrayLike<number>, o: { batch: number; bptt: number }): { perplexity: number; tokens: number };
  nextTokenProbabilities(context: readonly number[]): Float32Array;
}

/** Exports a run into a fresh folder and imports its model.js (with this repository's tfjs as its dependency). */
async function exported(run: string, name: string): Promise<Exported> {
  const out = join(tmp.path, name);
  const r = await rnnc(["export", run, "-o", out]);
  expectExit(r, 0);
  expect(r.stdout).toMatch(
    /^exported .*best\.ckpt \(\d+ parameters, \d+ tokens\) to .*: model\.json, weights\.bin, model\.js$/m,
  );
  const json = JSON.parse(readFileSync(join(out, "model.json"), "utf8"));
  expect(json.weightsManifest[0].paths).toEqual(["weights.bin"]);
  symlinkSync(join(ROOT, "node_modules"), join(out, "node_modules"), "dir");
  const mod = await import(pathToFileURL(join(out, "model.js")).href);
  return (await mod.ExportedLanguageModel.load(join(out, "model.json"))) as Exported;
}

const evalFigure = async (run: string): Promise<number> => {
  const r = await rnnc(["eval", run, "--limit-batches", "2", "--threads", "1"]);
  expectExit(r, 0);
  return Number(/valid perplexity ([\d.]+)/.exec(r.stdout)![1]);
};

beforeAll(async () => {
  requireBuild();
  mkdirSync(join(tmp.path, "specs"));
  const spec = join(tmp.path, "specs/gru.rnn");
  writeFileSync(
    spec,
    `experiment gru_tied {
  data synthetic { vocab 16  order 2  tokens 24000  seed 1  batch 8  bptt 10  eval_batch 4  test_batch 4 }
  model { embed 16  layers 2 gru(16)  tie  initial_state learned }
  dropout { zoneout hidden 0.1 }
  train { epochs 1  optimizer adam(lr = 0.01)  clip 1 }
}
`,
  );
  const r = await rnnc(["run", spec, "--threads", "1", "--runs", join(tmp.path, "runs")]);
  expectExit(r, 0);
  gruRun = runDirOf(r);
}, 300_000);
afterAll(() => tmp.remove());

describe("rnnc export", () => {
  it("a tied GRU with zoneout and a learned start: the module's perplexity is rnnc eval's", async () => {
    const model = await exported(gruRun, "gru");
    expect(model.vocab).toHaveLength(16);
    const valid = makeSyntheticCorpus(SYNTH).valid;
    const e = model.evaluate(valid, { batch: 4, bptt: 10, limitBatches: 2 } as never);
    expect(e.tokens).toBe(2 * 10 * 4);
    expect(e.perplexity).toBeCloseTo(await evalFigure(gruRun), 1);
    const p = model.nextTokenProbabilities([1, 2, 3]);
    expect(p).toHaveLength(16);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  }, 120_000);

  it.skipIf(!existsSync(join(dataRoot(), "ptb", "ptb.valid.txt")))(
    "the committed Zaremba-small LSTM: the same perplexity as rnnc eval, and 'said' after 'the company'",
    async () => {
      const model = await exported(SMALL, "small");
      const ids = new Map(model.vocab.map((w, i) => [w, i]));
      const words = readFileSync(join(dataRoot(), "ptb", "ptb.valid.txt"), "utf8")
        .split("\n")
        .flatMap((l) => [...l.split(/\s+/).filter(Boolean), "<eos>"]);
      words.pop(); // the file's last newline ends no line
      const e = model.evaluate(
        words.map((w) => ids.get(w)!),
        { batch: 10, bptt: 20, limitBatches: 2 } as never,
      );
      expect(e.perplexity).toBeCloseTo(await evalFigure(SMALL), 1);
      const p = model.nextTokenProbabilities(["the", "company"].map((w) => ids.get(w)!));
      expect(model.vocab[p.indexOf(Math.max(...p))]).toBe("said");
    },
    120_000,
  );

  it.skipIf(!existsSync(CHROMIUM) && !process.env["CI"])(
    "model.js runs in a browser (Chromium): loaded by URL, the same probabilities as in Node",
    async () => {
      const out = join(tmp.path, "gru");
      const model = (await import(pathToFileURL(join(out, "model.js")).href)).ExportedLanguageModel;
      const inNode: number[] = Array.from(
        (await model.load(join(out, "model.json"))).nextTokenProbabilities([1, 2, 3]),
      );
      // A page on a loopback server: model.js as it is, @tensorflow/tfjs through an import map to tfjs's ES bundle.
      const files: Record<string, [string, string]> = {
        "/": ["text/html", PAGE],
        "/model.js": ["text/javascript", readFileSync(join(out, "model.js"), "utf8")],
        "/model.json": ["application/json", readFileSync(join(out, "model.json"), "utf8")],
        "/tf.js": [
          "text/javascript",
          readFileSync(join(ROOT, "node_modules/@tensorflow/tfjs/dist/tf.fesm.js"), "utf8"),
        ],
      };
      const weights = readFileSync(join(out, "weights.bin"));
      const server = createServer((req, res) => {
        if (req.url === "/weights.bin")
          return void res.writeHead(200, { "content-type": "application/octet-stream" }).end(weights);
        const f = files[req.url ?? ""];
        if (!f) return void res.writeHead(404).end();
        res.writeHead(200, { "content-type": f[0] }).end(f[1]);
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on("pageerror", (e) => errors.push(String(e)));
        await page.goto(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
        const inBrowser = (await page
          .waitForFunction(() => (window as unknown as { probs?: number[] }).probs, null, {
            timeout: 60_000,
          })
          .then((h) => h.jsonValue())) as number[];
        expect(errors).toEqual([]);
        expect(inBrowser).toHaveLength(16);
        inBrowser.forEach((p, k) => expect(p).toBeCloseTo(inNode[k]!, 5));
      } finally {
        await browser.close();
        server.close();
      }
    },
    120_000,
  );

  it("refuses a normalized model and a classifier-free run folder, with a message", async () => {
    const bn = join(tmp.path, "specs/bn.rnn");
    writeFileSync(
      bn,
      `experiment bn {
  data synthetic { vocab 16  tokens 24000  batch 8  bptt 10 }
  model { layers 1 lstm(16)  norm layer }
  train { epochs 1 }
}
`,
    );
    const r = await rnnc(["run", bn, "--limit-batches", "2", "--runs", join(tmp.path, "runs")]);
    expectExit(r, 0);
    const e = await rnnc(["export", runDirOf(r), "-o", join(tmp.path, "bn-out")]);
    expectExit(e, 1);
    expect(e.stderr).toMatch(
      /normalizes its layers \(layer norm\), which the exported inference module does not compute yet/,
    );
    const none = await rnnc(["export", tmp.path, "-o", join(tmp.path, "x")]);
    expectExit(none, 1);
    expect(none.stderr).toMatch(/is not a run directory/);
  }, 120_000);
});
