/* main.c: placeholder entry point. */
int main(void) { return 0; }
