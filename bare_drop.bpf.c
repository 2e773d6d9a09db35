__attribute__((section("xdp"), used)) int bare_drop(void *ctx) { return 1; }
char _license[] __attribute__((section("license"), used)) = "GPL";
