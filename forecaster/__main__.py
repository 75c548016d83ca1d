from forecaster.cli.main import main

main()
