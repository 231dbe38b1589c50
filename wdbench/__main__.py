from wdbench.cli import main

main()
