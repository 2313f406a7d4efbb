import ZBenchCore
runCLI(methods: [directMethod])
