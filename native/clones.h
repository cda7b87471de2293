// CLONES: compile a loop for AVX-512, AVX2 and baseline x86-64, picked at load time by the CPU
// (GCC's target_clones on Linux/x86-64); elsewhere one baseline build. Nothing ships built for
// the build machine's CPU only (no -march=native).
#ifndef SKIPGRAD_CLONES_H
#define SKIPGRAD_CLONES_H
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CLONES
#endif
#endif
