{
  "targets": [
    {
      "target_name": "verity_native",
      "sources": ["verity_native.c"],
      "cflags": ["-O3", "-std=gnu11", "-fno-strict-aliasing"],
      "cflags!": ["-O2"],
      "conditions": [["OS=='win'", { "defines": ["VERITY_NO_X86_TARGETS"] }]]
    }
  ]
}
