@{
    RootModule           = 'Ahrvo.PowerShell.dll'
    # Stamped by build.ps1 from Directory.Build.props (the one source of the version).
    ModuleVersion        = '0.0.0'
    GUID                 = '6f0a3a4e-2a58-4f7c-9a51-6e1f8f3d2c17'
    Author               = 'Ahrvo.PowerShell contributors'
    CompanyName          = 'Ahrvo.PowerShell contributors'
    Copyright            = '(c) Ahrvo.PowerShell contributors. MIT License.'
    Description          = 'Query Ahrvo Dedicated Funds card balances from PowerShell: typed objects, honest errors, fast bulk queries with retries.'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Desktop', 'Core')
    FormatsToProcess     = @('Ahrvo.PowerShell.Format.ps1xml')
    CmdletsToExport      = @(
        'Connect-Ahrvo'
        'Disconnect-Ahrvo'
        'Get-AhrvoConnection'
        'Test-AhrvoConnection'
        'Get-AhrvoCardBalance'
        'Test-AhrvoCardBalance'
        'Watch-AhrvoCardBalance'
        'Compare-AhrvoCardBalance'
        'Measure-AhrvoCardBalance'
        'Export-AhrvoBalanceReport'
        'Export-AhrvoBalanceMetric'
        'Invoke-AhrvoRequest'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Ahrvo', 'CardIssuance', 'Balance', 'Payments', 'PSEdition_Core', 'PSEdition_Desktop', 'Windows', 'Linux', 'MacOS')
            LicenseUri   = 'https://github.com/ahrvo/Ahrvo.PowerShell/blob/main/LICENSE'
            ProjectUri   = 'https://github.com/ahrvo/Ahrvo.PowerShell'
            # Stamped by build.ps1 with the CHANGELOG.md section of the built version.
            ReleaseNotes = 'See CHANGELOG.md.'
        }
    }
}
