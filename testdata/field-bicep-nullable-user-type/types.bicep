// User-defined types shared by import.

@export()
type subnetType = {
  name: string
  prefix: string
}
