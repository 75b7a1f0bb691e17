// WebGPU adapters as people should see them: a name, and whether it is a software rasterizer
// (SwiftShader, llvmpipe/lavapipe, Microsoft's WARP) that emulates the GPU on the CPU. On such an
// adapter onnxruntime's WebGPU EP runs far slower than its WASM build (542 s against 15 s for the
// same run in headless Chromium with SwiftShader, issue 13), so the studio says so and suggests WASM.

export interface AdapterText {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|\bwarp\b|basic render|software/i;

/** The adapter's name from whatever its info fills in. */
export function adapterName(info: AdapterText): string {
  return [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' · ') || 'unnamed adapter';
}

/** A CPU-emulated adapter: the browser says so (`isFallbackAdapter`) or its name is a known software renderer. */
export function isSoftwareAdapter(info: AdapterText, isFallbackAdapter = false): boolean {
  if (isFallbackAdapter) return true;
  return SOFTWARE.test([info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' '));
}

/** What the studio says about a software adapter. */
export function softwareAdapterAdvice(info: AdapterText): string {
  return `${adapterName(info)} is a software adapter: the GPU is emulated on the CPU, and WebGPU runs there many times slower than WASM (37× on one measured run). Use WASM.`;
}
