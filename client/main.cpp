// simul-load entry point (placeholder until the load generator lands).
#include <cstdio>
int main() { std::puts("simul-load: not built yet"); return 2; }
