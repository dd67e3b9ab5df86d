import { describe, expect, it } from "vitest";
import { didYouMean, editDistance } from "../../compiler/suggest.js";

describe("didYouMean", () => {
  it("counts a transposition as one edit", () => {
    expect(editDistance("recurent", "recurrent")).toBe(1);
    expect(editDistance("tei", "tie")).toBe(1);
  });

  it("suggests within a third of the word's length, at least one edit", () => {
    expect(didYouMean("embbed", ["embed", "layers"])).toBe("embed");
    expect(didYouMean("lr", ["epochs", "optimizer"])).toBeUndefined();
    expect(didYouMean("opt", ["optimizer"])).toBeUndefined(); // 6 edits
    expect(didYouMean("optimzr", ["optimizer"])).toBe("optimizer"); // 2 edits in 7 letters
  });

  it("breaks a tie by the first letter, then by order", () => {
    expect(didYouMean("tr", ["ar", "tar", "weight_decay"])).toBe("tar");
    expect(didYouMean("xr", ["ar", "tar"])).toBe("ar");
  });
});
