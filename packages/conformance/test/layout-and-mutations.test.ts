import { describe, expect, it } from "vitest";
import { applyMutation, fieldRange, fromHex, layoutOf, loadManifest } from "../src/index.js";

const manifest = loadManifest();
const multiFrame = fromHex(manifest.positive.find((vector) => vector.id === "multi-frame")!.envelope);

describe("envelope layout", () => {
  it("names every byte of every positive vector exactly once", () => {
    for (const vector of manifest.positive) {
      const envelope = fromHex(vector.envelope);
      const layout = layoutOf(envelope);
      const leaves = [...layout.fields.entries()].filter(([name]) => !/^frame-\d+$/.test(name));
      const covered = new Uint8Array(envelope.length);
      for (const [, range] of leaves) for (let i = range.start; i < range.end; i++) covered[i]! += 1;
      expect(
        covered.every((count) => count === 1),
        vector.id,
      ).toBe(true);
    }
  });

  it("finds three frames in the multi-frame vector, the last one final", () => {
    const layout = layoutOf(multiFrame);
    expect(layout.frameCount).toBe(3);
    expect(layout.fields.has("frame-3.length")).toBe(true);
    expect(layout.fields.has("frame-2.length")).toBe(false);
    expect(fieldRange(layout, "frame-last.tag")).toEqual(layout.fields.get("frame-3.tag"));
  });
});

describe("mutations", () => {
  it("flip changes exactly one bit of the named field", () => {
    const mutated = applyMutation(multiFrame, { kind: "flip", field: "commitment", offset: -1, bit: 3 });
    const range = fieldRange(layoutOf(multiFrame), "commitment");
    const differing = [...mutated].flatMap((byte, i) => (byte === multiFrame[i] ? [] : [i]));
    expect(differing).toEqual([range.end - 1]);
    expect(mutated[range.end - 1]! ^ multiFrame[range.end - 1]!).toBe(8);
  });

  it("drop, duplicate and swap move whole frames", () => {
    const layout = layoutOf(multiFrame);
    const frame1 = fieldRange(layout, "frame-1");
    const size = frame1.end - frame1.start;
    expect(applyMutation(multiFrame, { kind: "drop-frame", frame: 1 }).length).toBe(multiFrame.length - size);
    expect(applyMutation(multiFrame, { kind: "duplicate-frame", frame: 1 }).length).toBe(
      multiFrame.length + size,
    );
    const swapped = applyMutation(multiFrame, { kind: "swap-frames", a: 1, b: 2 });
    const frame2 = fieldRange(layout, "frame-2");
    expect(
      Buffer.from(swapped.subarray(frame1.start, frame1.end)).equals(
        Buffer.from(multiFrame.subarray(frame2.start, frame2.end)),
      ),
    ).toBe(true);
  });

  it("every negative vector's envelope is its mutation applied to its base", () => {
    const bases = new Map(manifest.positive.map((vector) => [vector.id, fromHex(vector.envelope)]));
    for (const vector of manifest.negative.filter(
      (candidate) => !candidate.armored && !candidate.armoredBytes,
    )) {
      const mutated = applyMutation(bases.get(vector.base)!, vector.mutation);
      expect(Buffer.from(mutated).toString("hex"), vector.id).toBe(vector.envelope);
    }
  });
});
