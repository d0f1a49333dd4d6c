#include <stdio.h>
int main(void) { puts("vhdtool " VB_VERSION); return 0; }
